import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatchType, RuleAction, RuleKind, type DriverRule } from '../../driver/abi/types.js';
import { RuleDelta } from './delta.js';

const rule = (id: number, path = `C:\\r${id}`): DriverRule => ({
  id: BigInt(id), kind: RuleKind.File, action: RuleAction.Block, flags: 0, target: { path, match: MatchType.Exact },
});

void test('the plan holds exactly what differs, and a committed plan leaves nothing pending', () => {
  const d = new RuleDelta();
  d.replaceActual([rule(1), rule(2)]);
  d.setDesired(rule(2));
  d.setDesired(rule(3));
  const plan = d.plan();
  assert.deepEqual(plan.remove, [1n]);
  assert.deepEqual(plan.add.map((r) => r.id), [3n]);
  d.committed(plan);
  assert.equal(d.inSync, true);
  assert.deepEqual(d.plan(), { add: [], remove: [] });
});

void test('same id with different content is re-added (replaced), not left alone', () => {
  const d = new RuleDelta();
  d.replaceActual([rule(1, 'C:\\old')]);
  d.setDesired(rule(1, 'C:\\new'));
  assert.deepEqual(d.plan().add.map((r) => r.target.path), ['C:\\new']);
});

void test('a read-back counts every rule that differs from what was believed applied', () => {
  const d = new RuleDelta();
  d.setDesired(rule(1));
  d.setDesired(rule(2));
  d.committed(d.plan());
  // Someone removed rule 1 and added rule 9 behind our back.
  const drift = d.replaceActual([rule(2), rule(9)]);
  assert.equal(drift, 2);
  const plan = d.plan();
  assert.deepEqual(plan.add.map((r) => r.id), [1n]);
  assert.deepEqual(plan.remove, [9n]);
});

void test('setting back what is already there leaves nothing to do', () => {
  const d = new RuleDelta();
  d.replaceActual([rule(1)]);
  d.setDesired(rule(1));
  d.deleteDesired(5n);
  assert.equal(d.inSync, true);
});
