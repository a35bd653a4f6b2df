import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatchType, RuleAction, RuleKind, type DriverRule } from '../../driver/abi/types.js';
import { RuleRecords } from '../../driver/abi/rule-records.js';
import { DosPathTranslator } from '../../driver/client/paths.js';
import { RuleDelta } from './delta.js';

const rule = (id: number, path = `C:\\r${id}`): DriverRule => ({
  id: BigInt(id), kind: RuleKind.File, action: RuleAction.Block, flags: 0, target: { path, match: MatchType.Exact },
});

void test('the plan holds exactly what differs, and a committed plan leaves nothing pending', async () => {
  const d = new RuleDelta();
  await d.replaceActual(RuleRecords.of([rule(1), rule(2)]));
  d.setDesired(rule(2));
  d.setDesired(rule(3));
  const plan = (await d.plan());
  assert.deepEqual(plan.remove, [1n]);
  assert.deepEqual(plan.add.map((r) => r.id), [3n]);
  await d.committed(plan);
  assert.equal(d.inSync, true);
  assert.deepEqual((await d.plan()), { add: [], remove: [] });
});

void test('same id with different content is re-added (replaced), not left alone', async () => {
  const d = new RuleDelta();
  await d.replaceActual(RuleRecords.of([rule(1, 'C:\\old')]));
  d.setDesired(rule(1, 'C:\\new'));
  assert.deepEqual((await d.plan()).add.map((r) => r.target.path), ['C:\\new']);
});

void test('a read-back counts every rule that differs from what was believed applied', async () => {
  const d = new RuleDelta();
  d.setDesired(rule(1));
  d.setDesired(rule(2));
  await d.committed((await d.plan()));
  // Someone removed rule 1 and added rule 9 behind our back.
  const drift = await d.replaceActual(RuleRecords.of([rule(2), rule(9)]));
  assert.equal(drift, 2);
  const plan = (await d.plan());
  assert.deepEqual(plan.add.map((r) => r.id), [1n]);
  assert.deepEqual(plan.remove, [9n]);
});

void test('setting back what is already there leaves nothing to do', async () => {
  const d = new RuleDelta();
  await d.replaceActual(RuleRecords.of([rule(1)]));
  d.setDesired(rule(1));
  d.deleteDesired(5n);
  assert.equal(d.inSync, true);
});

void test('desired changes made while a read-back is merged are not lost', async () => {
  const d = new RuleDelta();
  const many = Array.from({ length: 5000 }, (_, i) => rule(i + 1));
  for (const r of many) d.setDesired(r);
  await d.committed(await d.plan());
  // The merge runs in slices; these changes land before it settles.
  const merging = d.replaceActual(RuleRecords.of(many));
  d.setDesired(rule(2, 'C:\\new'));
  d.deleteDesired(1n);
  d.setDesired(rule(9999));
  assert.equal(await merging, 0, 'the read-back matched what was believed');
  const plan = await d.plan();
  assert.deepEqual(plan.remove, [1n]);
  assert.deepEqual(plan.add.map((r) => [r.id, r.target.path]).sort(), [[2n, 'C:\\new'], [9999n, 'C:\\r9999']]);
});

void test('a read-back missing desired rules plans them again; one with extra rules plans their removal', async () => {
  const d = new RuleDelta();
  for (const id of [1, 2, 3]) d.setDesired(rule(id));
  await d.committed(await d.plan());
  assert.equal(await d.replaceActual(RuleRecords.of([rule(1), rule(3), rule(4)])), 2);
  const plan = await d.plan();
  assert.deepEqual(plan.add.map((r) => r.id), [2n]);
  assert.deepEqual(plan.remove, [4n]);
  assert.equal(d.actualCount, 3);
});

void test('forgetting the actual side plans every desired rule, including one changed meanwhile', async () => {
  const d = new RuleDelta();
  for (const id of [1, 2]) d.setDesired(rule(id));
  await d.committed(await d.plan());
  const clearing = d.clearActual();
  d.deleteDesired(2n);
  d.setDesired(rule(5));
  await clearing;
  const plan = await d.plan();
  assert.deepEqual(plan.add.map((r) => r.id).sort(), [1n, 5n]);
  assert.deepEqual(plan.remove, []);
});

void test('after changes to a sorted desired side, a read-back is compared with the patched one', async () => {
  const d = new RuleDelta();
  for (let id = 1; id <= 100; id++) d.setDesired(rule(id));
  await d.committed(await d.plan());
  assert.equal(await d.replaceActual(RuleRecords.of(Array.from({ length: 100 }, (_, i) => rule(i + 1)))), 0);
  // A few changes: patched into the sorted list, not sorted again.
  d.setDesired(rule(50, 'C:\\changed'));
  d.deleteDesired(7n);
  d.setDesired(rule(150));
  d.setDesired(rule(1000));
  const wanted = [...Array.from({ length: 100 }, (_, i) => rule(i + 1)).filter((r) => r.id !== 7n && r.id !== 50n), rule(50, 'C:\\changed'), rule(150), rule(1000)]
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  await d.replaceActual(RuleRecords.of(wanted), false);
  assert.equal(d.inSync, true, 'the driver holds exactly the patched desired side');
  await d.replaceActual(RuleRecords.of(Array.from({ length: 100 }, (_, i) => rule(i + 1))), false);
  const plan = await d.plan();
  assert.deepEqual(plan.remove, [7n]);
  assert.deepEqual(plan.add.map((r) => r.id).sort((a, b) => (a < b ? -1 : 1)), [50n, 150n, 1000n]);
});

void test('a large desired side is sorted in slices, and changes made meanwhile are in the sorted result', async () => {
  const d = new RuleDelta();
  // Ids in descending order, more than one sorted run: the read-back is compared only after sorting.
  const n = 10_000;
  for (let id = n; id >= 1; id--) d.setDesired(rule(id));
  const listed = Array.from({ length: n }, (_, i) => rule(i + 1));
  const merging = d.replaceActual(RuleRecords.of(listed), false);
  d.setDesired(rule(n + 1));
  d.deleteDesired(3n);
  await merging;
  let plan = await d.plan();
  assert.deepEqual(plan.add.map((r) => r.id), [BigInt(n + 1)]);
  assert.deepEqual(plan.remove, [3n]);
  await d.committed(plan);
  // The next read-back uses the kept sorted list, which must hold the changes.
  const now = [...listed.filter((r) => r.id !== 3n), rule(n + 1)];
  assert.equal(await d.replaceActual(RuleRecords.of(now)), 0);
  plan = await d.plan();
  assert.deepEqual(plan, { add: [], remove: [] });
});

void test('desired rules stay in the policy form: a read-back in the driver form matches through the drive map, and a changed map is drift', async () => {
  let paths = new DosPathTranslator(new Map([['C:', '\\Device\\HarddiskVolume3']]));
  const d = new RuleDelta(() => paths);
  const dos = rule(1, 'C:\\Tools\\a.exe');
  const nt = rule(1, '\\Device\\HarddiskVolume3\\Tools\\a.exe');
  d.setDesired(dos);
  assert.equal(await d.replaceActual(RuleRecords.of([nt]), false), 0);
  assert.equal(d.inSync, true, 'the NT record is the DOS rule on this node');
  assert.deepEqual(await d.plan(), { add: [], remove: [] });
  // C: is now another volume: the same record no longer holds the rule.
  paths = new DosPathTranslator(new Map([['C:', '\\Device\\HarddiskVolume7']]));
  assert.equal(await d.replaceActual(RuleRecords.of([nt])), 1);
  assert.deepEqual(await d.plan(), { add: [dos], remove: [] }, 'added again, in the policy form (the client writes it as NT)');
});

void test('a driver believed empty: the plan is the whole desired side, and changes made while it is applied are planned next', async () => {
  const d = new RuleDelta();
  for (const id of [1, 2, 3]) d.setDesired(rule(id));
  assert.equal(d.actualCount, 0);
  const plan = await d.plan();
  assert.deepEqual(plan.add.map((r) => r.id), [1n, 2n, 3n]);
  // While the APPLY is in flight.
  d.deleteDesired(1n);
  d.setDesired(rule(2, 'C:\\new'));
  d.setDesired(rule(4));
  d.setDesired(rule(4, 'C:\\newer'));
  await d.committed(plan);
  assert.equal(d.actualCount, 3, 'the driver holds what the plan held');
  const next = await d.plan();
  assert.deepEqual(next.remove, [1n]);
  assert.deepEqual(next.add.map((r) => [r.id, r.target.path]).sort(), [[2n, 'C:\\new'], [4n, 'C:\\newer']]);
  await d.committed(next);
  assert.equal(d.inSync, true);
});

void test('a driver believed empty that takes part of the plan (bisection) still plans the rest', async () => {
  const d = new RuleDelta();
  for (const id of [1, 2, 3, 4]) d.setDesired(rule(id));
  const plan = await d.plan();
  await d.committed({ add: plan.add.slice(0, 2), remove: [] });
  assert.equal(d.actualCount, 2);
  assert.deepEqual((await d.plan()).add.map((r) => r.id), [3n, 4n]);
});

void test('drift against a driver believed empty is every rule it holds; an emptied driver drifted by every rule it held', async () => {
  const d = new RuleDelta();
  assert.equal(await d.replaceActual(RuleRecords.of([rule(7), rule(8)])), 2);
  assert.deepEqual((await d.plan()).remove, [7n, 8n]);
  d.setDesired(rule(1));
  await d.committed(await d.plan());
  assert.equal(d.actualCount, 1);
  assert.equal(await d.replaceActual(RuleRecords.of([])), 1);
  assert.deepEqual((await d.plan()).add.map((r) => r.id), [1n]);
});

void test('desired ids spread over the whole 64-bit range (hashes) are sorted exactly: a read-back of the same rules is in sync', async () => {
  const d = new RuleDelta();
  let x = 0x9e3779b97f4a7c15n;
  const rules: DriverRule[] = [];
  for (let i = 0; i < 20_000; i++) {
    // A 64-bit xorshift: ids with every top byte, in no order.
    x ^= (x << 13n) & 0xffffffffffffffffn;
    x ^= x >> 7n;
    x ^= (x << 17n) & 0xffffffffffffffffn;
    rules.push({ ...rule(i + 1), id: x || 1n });
  }
  for (const r of rules) d.setDesired(r);
  const listed = [...rules].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  assert.equal(await d.replaceActual(RuleRecords.of(listed), false), 0);
  assert.equal(d.inSync, true);
  assert.deepEqual(await d.plan(), { add: [], remove: [] });
});
