// Upstream KubeArmor's own policies (test/fixtures/upstream, source named in its README):
// kawin accepts every one a cluster with upstream's CRDs accepts, reading them as the
// API server does (nulls pruned, with a warning naming each).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parsePolicies, type PolicyProblem } from './index.js';

const root = new URL('../../test/fixtures/upstream/kubearmor/', import.meta.url).pathname;

/** Upstream files a cluster refuses too, with the reason. */
const REFUSED_BY_A_CLUSTER: Record<string, RegExp> = {
  // `Version:` where `apiVersion:` was meant: no apiVersion, so no API server takes it.
  'getting-started/use-cases/res/disc-tools.yaml': /missing apiVersion/,
};

function policyFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return path.endsWith('deployments/CRD') ? [] : policyFiles(path);
    return /\.ya?ml$/.test(e.name) ? [path] : [];
  }).sort();
}

function read(file: string): { problems: PolicyProblem[]; policies: number } {
  const result = parsePolicies(readFileSync(file, 'utf8'), relative(root, file));
  return {
    problems: [...result.problems, ...result.documents.flatMap((d) => d.problems)],
    policies: result.documents.filter((d) => d.policy).length,
  };
}

const files = policyFiles(root);

void test('the upstream corpus is there (280 policy files)', () => {
  assert.equal(files.length, 280);
});

void test('kawin accepts every upstream policy that a cluster accepts', () => {
  const rejected: string[] = [];
  for (const file of files) {
    const name = relative(root, file);
    const { problems, policies } = read(file);
    const errors = problems.filter((p) => p.severity === 'error');
    const expected = REFUSED_BY_A_CLUSTER[name];
    if (expected) {
      assert.ok(errors.some((e) => expected.test(e.message)), `${name}: expected to be refused (${expected})`);
      continue;
    }
    if (errors.length > 0 || policies === 0) rejected.push(`${name}: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
  }
  assert.deepEqual(rejected, []);
});

void test('the operator\'s "recommend" policies: the empty matchExpressions is dropped with a warning naming it', () => {
  const recommend = files.filter((f) => f.includes('pkg/KubeArmorOperator/recommend/'));
  assert.equal(recommend.length, 17);
  for (const file of recommend) {
    const { problems } = read(file);
    const dropped = problems.filter((p) => /null dropped/.test(p.message));
    assert.deepEqual(dropped.map((p) => [p.severity, p.path]), [['warning', 'spec.selector.matchExpressions']], relative(root, file));
    assert.ok(dropped[0]!.line > 0, 'the warning points at the line');
  }
});

void test('upstream\'s non-Kubernetes host scenarios: a dir without its separator and a network rule without fromSource are read, with warnings', () => {
  const dir = read(join(root, 'tests/nonk8s_env/host_policy/res/hsp-block-process-dir-bin.yaml')).problems;
  assert.ok(dir.some((p) => p.severity === 'warning' && p.path === 'spec.process.matchDirectories[0].dir' && /read as "\/usr\/bin\/"/.test(p.message)), JSON.stringify(dir));
  const net = read(join(root, 'tests/nonk8s_env/host_policy/res/hsp-audit-network-protocol.yaml')).problems;
  assert.ok(net.some((p) => p.severity === 'warning' && p.path === 'spec.network.matchProtocols[0]' && /no fromSource/.test(p.message)), JSON.stringify(net));
});
