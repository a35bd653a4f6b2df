import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import type { RuleAction } from '../../driver/abi/types.js';
import { canonicalOf, ruleIdOf, shapeOf } from './rule-id.js';

/** The id as defined: the first 8 bytes of SHA-256 over the UTF-8 encoding, big-endian (every stored id is one). */
const reference = (canonical: string): bigint => createHash('sha256').update(canonical, 'utf8').digest().readBigUInt64BE(0);

void test('a rule id is the first 8 bytes of SHA-256 over the canonical encoding, big-endian, for any text', () => {
  for (const s of ['', 'kawin-rule-v1|2|2|1|0|C:\\WINDOWS\\SYSTEM32\\CMD.EXE|0|', 'C:\\DONNÉES\\ß', '中文\\😀', '\ud800']) assert.equal(ruleIdOf(s), reference(s), s);
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 120 }), (s) => {
    assert.equal(ruleIdOf(s), reference(s));
  }), { numRuns: 5000 });
});

void test('the shape of a canonical encoding is what follows its action', () => {
  const shape = '2|1|0|C:\\A|B\\C.EXE|0|';
  for (const action of [0, 1, 2] as RuleAction[]) assert.equal(shapeOf(canonicalOf(action, shape)), shape);
});
