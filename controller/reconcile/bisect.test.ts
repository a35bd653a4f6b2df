import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatchType, RuleAction, RuleKind, type DriverRule } from '../../driver/abi/types.js';
import { bisectRejected } from './bisect.js';

class Rejected extends Error {}

const rules = (n: number): DriverRule[] => Array.from({ length: n }, (_, i) => ({
  id: BigInt(i + 1), kind: RuleKind.File, action: RuleAction.Block, flags: 0, target: { path: `\\f${i}`, match: MatchType.Exact },
}));

/** An all-or-nothing batch apply that rejects any batch holding a bad id. */
function driver(bad: Set<bigint>) {
  const applied: bigint[] = [];
  let attempts = 0;
  const applyBatch = async (batch: readonly DriverRule[]): Promise<void> => {
    attempts++;
    if (batch.some((r) => bad.has(r.id))) throw new Rejected('bad rule');
    applied.push(...batch.map((r) => r.id));
  };
  return { applied, applyBatch, attempts: () => attempts };
}

void test('bisection isolates each rejected rule and applies all the others', async () => {
  const all = rules(64);
  const d = driver(new Set([7n, 40n]));
  const out = await bisectRejected({ rules: all, error: new Rejected('x') }, d.applyBatch, (e) => e instanceof Rejected);
  assert.deepEqual(out.map((r) => r.rule.id), [7n, 40n]);
  assert.deepEqual([...d.applied].sort((a, b) => Number(a - b)), all.map((r) => r.id).filter((id) => id !== 7n && id !== 40n));
  // k bad among n: about 2·k·log2(n) attempts (here 2·2·6 = 24), not n.
  assert.ok(d.attempts() <= 24, `attempts ${d.attempts()}`);
});

void test('a single rejected rule is refused with the error that rejected it', async () => {
  const d = driver(new Set([1n]));
  const error = new Rejected('the first');
  const out = await bisectRejected({ rules: rules(1), error }, d.applyBatch, (e) => e instanceof Rejected);
  assert.equal(out[0]!.error, error);
  assert.equal(d.attempts(), 0);
});

void test('any other failure stops the bisection and reaches the caller', async () => {
  let calls = 0;
  const failing = async (): Promise<void> => { calls++; throw new Error('driver gone'); };
  await assert.rejects(bisectRejected({ rules: rules(8), error: new Rejected('x') }, failing, (e) => e instanceof Rejected), /driver gone/);
  assert.equal(calls, 1);
});
