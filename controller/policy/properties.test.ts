// Property tests: the merged rule set does not depend on the order policies arrive in,
// and an unchanged policy keeps its rule ids whatever happens to the others.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Flavor, type DriverRule } from '../../driver/abi/types.js';
import { PolicyCompiler, RuleSetBuilder, type Policy } from './index.js';
import { hostPolicy } from '../../test/fixtures/policies/make-policy.js';

const entry = fc.record({
  path: fc.constantFrom('C:\\a.txt', 'c:\\A.TXT', '/C:/a.txt', '%SystemDrive%\\b.txt', 'C:\\dir\\c.txt', 'D:\\x\\y.exe'),
  action: fc.constantFrom('Allow', 'Audit', 'Block'),
  readOnly: fc.boolean(),
  severity: fc.integer({ min: 1, max: 10 }),
});
const policySpec = fc.array(entry, { minLength: 1, maxLength: 6 });
const policySet = fc.array(policySpec, { minLength: 1, maxLength: 6 });

function toPolicy(name: string, entries: { path: string; action: string; readOnly: boolean; severity: number }[]): Policy {
  const items = entries.map((e) => `      - {path: '${e.path}', action: ${e.action}, readOnly: ${e.readOnly}, severity: ${e.severity}}`);
  return hostPolicy(name, `  file:\n    matchPaths:\n${items.join('\n')}`);
}

function build(policies: Policy[]): RuleSetBuilder {
  const compiler = new PolicyCompiler({ flavor: Flavor.Windows });
  const builder = new RuleSetBuilder();
  for (const p of policies) builder.set(p.key, compiler.compile(p));
  return builder;
}

const snapshot = (builder: RuleSetBuilder): [string, DriverRule, unknown][] =>
  [...builder.rules()].map(([id, rule]) => [id.toString(16), rule, builder.lookup(id)] as [string, DriverRule, unknown]).sort((a, b) => a[0].localeCompare(b[0]));

void test('compiling the same set in any order gives the same ids, rules and provenance', () => {
  fc.assert(fc.property(policySet.chain((specs) => fc.tuple(fc.constant(specs), fc.shuffledSubarray(specs.map((_, i) => i), { minLength: specs.length }))), ([specs, order]) => {
    const policies = specs.map((s, i) => toPolicy(`p${i}`, s));
    assert.deepEqual(snapshot(build(order.map((i) => policies[i]!))), snapshot(build(policies)));
  }), { numRuns: 60 });
});

void test('an unchanged policy keeps its ids (and its rules stay in force) when the others change', () => {
  fc.assert(fc.property(policySpec, policySet, policySet, (kept, before, after) => {
    const compiler = new PolicyCompiler({ flavor: Flavor.Windows });
    const builder = new RuleSetBuilder();
    const stable = toPolicy('stable', kept);
    const ids = compiler.compile(stable).rules.map((r) => r.id);
    builder.set(stable.key, compiler.compile(stable));
    before.forEach((s, i) => builder.set(`other-${i}`, compiler.compile(toPolicy(`other-${i}`, s))));
    after.forEach((s, i) => builder.set(`other-${i}`, compiler.compile(toPolicy(`other-${i}`, s))));
    for (let i = after.length; i < before.length; i++) builder.delete(`other-${i}`);
    assert.deepEqual(compiler.compile(stable).rules.map((r) => r.id), ids);
    for (const id of ids) assert.ok(builder.rules().has(id));
    assert.deepEqual(snapshot(builder), snapshot(build([stable, ...after.map((s, i) => toPolicy(`other-${i}`, s))])), 'incremental equals a fresh build');
  }), { numRuns: 60 });
});
