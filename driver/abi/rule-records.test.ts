import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RuleRecords } from './rule-records.js';
import { RULE } from './layout.js';
import { MatchType, RuleAction, RuleKind, type DriverRule } from './types.js';
import { AbiDecodeError } from './wire.js';
import { encodeRuleAt, ruleSize } from './rules-codec.js';

const a: DriverRule = { id: 5n, kind: RuleKind.File, action: RuleAction.Block, flags: 1, target: { path: '\\Device\\HarddiskVolume3\\Tools\\ä€𝄞.exe', match: MatchType.Exact } };
const b: DriverRule = { ...a, id: 9n, target: { path: '\\Device\\HarddiskVolume3\\Data\\', match: MatchType.Recursive }, source: { path: '\\Device\\HarddiskVolume3\\x.exe', match: MatchType.Exact } };

void test('records decode on demand to the rules they were made of, and find ids', () => {
  const records = RuleRecords.of([a, b]);
  assert.equal(records.length, 2);
  assert.equal(records.ascending, true);
  assert.deepEqual(records.toArray(), [a, b]);
  assert.deepEqual([records.id(0), records.id(1)], [5n, 9n]);
  assert.deepEqual([records.indexOf(9n), records.indexOf(5n), records.indexOf(7n)], [1, 0, -1]);
  assert.equal(RuleRecords.of([b, a]).ascending, false);
});

void test('ascending order is read across the whole 64-bit id (both 32-bit halves): a repeated or lower id is out of order', () => {
  const at = (id: bigint): DriverRule => ({ ...a, id });
  assert.equal(RuleRecords.of([at(0xffffffffn), at(0x1_00000000n), at(0x1_00000001n), at(0xffffffff_fffffffen)]).ascending, true);
  assert.equal(RuleRecords.of([at(0x1_00000000n), at(0xffffffffn)]).ascending, false, 'lower high half');
  assert.equal(RuleRecords.of([at(0x2_00000005n), at(0x2_00000004n)]).ascending, false, 'same high half, lower low half');
  assert.equal(RuleRecords.of([at(7n), at(7n)]).ascending, false, 'a repeated id');
});

void test('a record matches exactly its rule: any field that differs is a mismatch', () => {
  const records = RuleRecords.of([a, b]);
  assert.equal(records.matches(0, a), true);
  assert.equal(records.matches(1, b), true);
  const variants: DriverRule[] = [
    { ...a, id: 6n }, { ...a, kind: RuleKind.Process }, { ...a, action: RuleAction.Audit }, { ...a, flags: 0 },
    { ...a, target: { ...a.target, match: MatchType.Glob } }, { ...a, target: { ...a.target, path: a.target.path.toUpperCase() } },
    { ...a, target: { ...a.target, path: `${a.target.path}x` } }, { ...a, source: { path: '\\x', match: MatchType.Exact } },
  ];
  for (const v of variants) assert.equal(records.matches(0, v), false, JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? String(x) : x)));
  const { source: _s, ...noSource } = b;
  assert.equal(records.matches(1, noSource), false);
  assert.equal(records.matches(1, { ...b, source: { ...b.source!, path: '\\Device\\HarddiskVolume3\\y.exe' } }), false);
});

void test('a malformed record fails the page it arrives in, as decoding it would', () => {
  const bytes = new Uint8Array(ruleSize(a));
  const view = new DataView(bytes.buffer);
  encodeRuleAt(view, 0, a);
  view.setUint16(RULE.fields.PathBytes, 3, true);
  assert.throws(() => new RuleRecords().addPage(bytes, 0, 1, bytes.byteLength, 'KAWIN_LIST_RESPONSE'), (e: unknown) => e instanceof AbiDecodeError && /PathBytes 3/.test(e.message));
  assert.throws(() => new RuleRecords().addPage(new Uint8Array(bytes.byteLength + 8), 0, 0, 8, 'KAWIN_LIST_RESPONSE'), /8 bytes after the last of 0 records/);
});

void test('released records hand their pages back once and cannot be read again', () => {
  const records = RuleRecords.of([a, b]);
  const pages: Uint8Array[] = [];
  records.release((page) => pages.push(page));
  assert.equal(pages.length, 1);
  assert.ok(pages[0]!.byteLength >= ruleSize(a) + ruleSize(b));
  assert.throws(() => records.length, /read after release/);
});
