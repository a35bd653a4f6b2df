import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flavor } from '../../driver/abi/types.js';
import { NodeRuleSet, PolicyCompiler, RuleSetBuilder } from './index.js';
import { hostPolicy } from '../../test/fixtures/policies/make-policy.js';

const compiler = () => new PolicyCompiler({ flavor: Flavor.Windows });

void test('identical rules from several policies are one driver rule whose provenance names them all', () => {
  const c = compiler();
  const builder = new RuleSetBuilder();
  const low = c.compile(hostPolicy('low', '  file: {matchPaths: [{path: C:\\shared.txt}, {path: C:\\low.txt}]}', { severity: 2 }));
  const high = c.compile(hostPolicy('high', '  file: {matchPaths: [{path: c:\\SHARED.txt, tags: [t]}]}', { severity: 8 }));
  assert.equal(builder.set(low.key, low).added.length, 2);
  assert.deepEqual(builder.set(high.key, high), { added: [], removed: [] });
  const shared = low.rules[0]!.id;
  assert.equal(builder.rules().size, 2);
  assert.equal(builder.rules().get(shared)!.target.path, 'C:\\SHARED.txt', 'the smallest spelling, whatever the order');
  const reversed = new RuleSetBuilder();
  reversed.set(high.key, high);
  reversed.set(low.key, low);
  assert.deepEqual(reversed.rules().get(shared), builder.rules().get(shared));
  const provenance = builder.lookup(shared)!;
  assert.equal(provenance.action, 'Block');
  assert.deepEqual(provenance.origins.map((o) => [o.policy, o.severity]), [['high', 8], ['low', 2]], 'highest severity first');

  assert.deepEqual(builder.delete(low.key), { added: [], removed: [low.rules[1]!.id] }, 'the shared rule stays while high holds it');
  assert.deepEqual(builder.lookup(shared)!.origins.map((o) => o.policy), ['high']);
  assert.deepEqual(builder.delete(high.key), { added: [], removed: [shared] });
  assert.equal(builder.rules().size, 0);
  assert.equal(builder.lookup(shared), undefined);
});

void test('replacing a policy reports only the ids that entered or left', () => {
  const c = compiler();
  const builder = new RuleSetBuilder();
  const v1 = c.compile(hostPolicy('p', '  file: {matchPaths: [{path: C:\\a.txt}, {path: C:\\b.txt}]}'));
  const v2 = c.compile(hostPolicy('p', '  file: {matchPaths: [{path: C:\\b.txt}, {path: C:\\c.txt}]}'));
  builder.set(v1.key, v1);
  const change = builder.set(v2.key, v2);
  assert.deepEqual(change, { added: [v2.rules[1]!.id], removed: [v1.rules[0]!.id] });
  assert.deepEqual(builder.set(v2.key, v2), { added: [], removed: [] });
});

void test('NodeRuleSet keeps the last good version when a new one does not compile', () => {
  const set = new NodeRuleSet({ flavor: Flavor.Windows });
  set.apply(hostPolicy('p', '  file: {matchPaths: [{path: C:\\a.txt}]}'));
  const { compiled } = set.apply(hostPolicy('p', "  file: {matchPaths: [{path: '%NOPE%\\a.txt'}]}"));
  assert.equal(compiled.valid, false);
  assert.equal(set.status('KubeArmorHostPolicy/p')!.valid, false, 'status shows the failure');
  assert.deepEqual([...set.rules().values()].map((r) => r.target.path), ['C:\\a.txt'], 'the good version stays in force');
  set.remove('KubeArmorHostPolicy/p');
  assert.equal(set.rules().size, 0);
});

void test('NodeRuleSet re-selects when node labels change and re-translates for a new environment', () => {
  const set = new NodeRuleSet({ flavor: Flavor.Windows, nodeLabels: { role: 'web' } });
  set.apply(hostPolicy('db-only', "  file: {matchPaths: [{path: '%ProgramData%\\db.txt'}]}", { labels: 'role: db' }));
  assert.equal(set.rules().size, 0);
  assert.equal(set.reconfigure({ nodeLabels: { role: 'db' } }).added.length, 1);
  assert.equal([...set.rules().values()][0]!.target.path, 'C:\\ProgramData\\db.txt');
  const change = set.reconfigure({ environment: { ProgramData: 'D:\\Data' } });
  assert.deepEqual([change.added.length, change.removed.length], [1, 1]);
  assert.equal([...set.rules().values()][0]!.target.path, 'D:\\Data\\db.txt');
});

void test('rules of one id given twice or more in one policy merge as if from several policies', () => {
  const c = compiler();
  const spellings = ['C:\\Same.txt', 'c:\\same.txt', 'C:\\SAME.TXT'].map((path, i) => c.compile(hostPolicy(`p${i}`, `  file: {matchPaths: [{path: '${path}'}, {path: 'C:\\other${i}.txt'}]}`)));
  const one = new RuleSetBuilder();
  const change = one.set('all', { rules: spellings.flatMap((p) => p.rules) });
  const several = new RuleSetBuilder();
  for (const p of spellings) several.set(p.key, p);
  const id = spellings[0]!.rules[0]!.id;
  assert.deepEqual(change.added.sort(), [...several.rules().keys()].sort(), 'each id is added once');
  assert.deepEqual(one.rules().get(id), several.rules().get(id), 'the smallest spelling stands for them');
  assert.equal(one.lookup(id)!.origins.length, 3);
  assert.deepEqual(one.delete('all').removed.sort(), change.added);
  assert.equal(one.rules().size, 0);
});
