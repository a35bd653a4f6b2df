import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { load } from 'js-yaml';
import { CRD_DIRECTORY, CRD_FILES, POLICY_KINDS } from './index.js';
import { crdSchema } from './schema.js';

type Crd = { metadata: { name: string }; spec: { group: string; scope: string; names: { kind: string; shortNames: string[]; plural: string }; versions: { name: string; subresources: object }[] } };
const crd = (file: string) => load(readFileSync(new URL(file, CRD_DIRECTORY), 'utf8')) as Crd;

void test('the CRD files are up to date with crds/generate.mjs', () => {
  const r = spawnSync(process.execPath, [new URL('generate.mjs', CRD_DIRECTORY).pathname, '--check'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
});

void test('the CRDs have upstream KubeArmor\'s names, short names, scopes and status subresource', () => {
  const expected = {
    KubeArmorHostPolicy: ['kubearmorhostpolicies.security.kubearmor.com', 'hsp', 'Cluster'],
    KubeArmorPolicy: ['kubearmorpolicies.security.kubearmor.com', 'ksp', 'Namespaced'],
    KubeArmorClusterPolicy: ['kubearmorclusterpolicies.security.kubearmor.com', 'csp', 'Cluster'],
  };
  for (const kind of POLICY_KINDS) {
    const c = crd(CRD_FILES[kind]);
    assert.deepEqual([c.metadata.name, c.spec.names.shortNames[0], c.spec.scope], expected[kind]);
    assert.equal(c.spec.group, 'security.kubearmor.com');
    assert.deepEqual(c.spec.versions[0]!.subresources, { status: {} });
    assert.ok((crdSchema(kind).properties as { status: unknown }).status);
  }
});

void test('the widened path patterns accept the three Windows spellings and upstream\'s Linux paths', () => {
  const at = (node: unknown, ...keys: string[]) => keys.reduce((n, k) => (n as Record<string, unknown>)[k], node) as Record<string, unknown>;
  const file = at(crdSchema('KubeArmorHostPolicy'), 'properties', 'spec', 'properties', 'file', 'properties');
  const path = new RegExp(String(at(file, 'matchPaths', 'items', 'properties', 'path').pattern), 'u');
  const dir = new RegExp(String(at(file, 'matchDirectories', 'items', 'properties', 'dir').pattern), 'u');
  for (const p of ['C:\\Windows\\x.exe', 'C:/Windows/x.exe', '/C:/Windows/x.exe', '%SystemRoot%\\x.exe', '%ComSpec%', '/usr/bin/x']) assert.match(p, path);
  for (const d of ['C:\\Windows\\', 'C:\\', '/C:/Windows/', '%SystemRoot%\\Temp\\', '/etc/', '/']) assert.match(d, dir);
  for (const bad of ['x.exe', 'C:\\Windows\\', '/etc/']) assert.doesNotMatch(bad, path);
  for (const bad of ['C:\\Windows', '/etc']) assert.doesNotMatch(bad, dir);
  // The CRD-safe spelling passes upstream's own patterns unchanged.
  assert.match('/C:/Windows/System32/cmd.exe', /^\/+.*[^/]$/);
  assert.match('/C:/Windows/', /^\/$|^\/.*\/$/);
});
