// The policy corpus (test/fixtures/policies): every case's messages and compiled rules
// against its golden file (golden/<case>.json). UPDATE_GOLDEN=1 rewrites the goldens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { Flavor } from '../../driver/abi/types.js';
import { PolicyCompiler, formatProblem, formatRule } from './index.js';
import { checkPolicies } from './inputs.js';

const root = new URL('../../test/fixtures/policies/', import.meta.url).pathname;
const NODE_LABELS = { 'kubearmor.io/hostname': 'win-node-1', 'kubernetes.io/os': 'windows' };

function cases(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'golden' ? [] : cases(path);
    return /\.(ya?ml|json)$/.test(e.name) ? [path] : [];
  }).sort();
}

function outcome(file: string) {
  const location = relative(root, file);
  const flavor = location.startsWith('posix/') ? Flavor.Posix : Flavor.Windows;
  const compiler = new PolicyCompiler({ flavor, nodeLabels: NODE_LABELS });
  const checked = checkPolicies([{ location, text: readFileSync(file, 'utf8') }], compiler);
  return {
    flavor: Flavor[flavor].toLowerCase(),
    problems: checked.problems.map(formatProblem),
    policies: checked.policies.map((policy) => {
      const compiled = compiler.compile(policy);
      return {
        key: policy.key,
        enforced: compiled.selection.enforced,
        reason: compiled.selection.reason,
        rules: checked.translations.get(policy.key)!.rules.map((r) => `${formatRule(r)} <- severity ${r.origin.severity}, tags [${r.origin.tags.join(',')}], message "${r.origin.message}"`),
      };
    }),
  };
}

for (const file of cases(root)) {
  const name = relative(root, file);
  void test(`corpus: ${name}`, () => {
    const actual = outcome(file);
    const errors = actual.problems.filter((p) => / error: /.test(p));
    if (name.startsWith('invalid/') || name.includes('-on-')) assert.ok(errors.length > 0, 'an invalid case must have errors');
    else assert.deepEqual(errors, [], 'a valid case must have no errors');
    const golden = join(root, 'golden', `${name}.json`);
    if (process.env.UPDATE_GOLDEN === '1') mkdirSync(dirname(golden), { recursive: true });
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(golden, `${JSON.stringify(actual, null, 2)}\n`);
    assert.ok(existsSync(golden), `${golden} is missing: run with UPDATE_GOLDEN=1 and review it`);
    assert.deepEqual(actual, JSON.parse(readFileSync(golden, 'utf8')));
  });
}
