import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prepareDocument } from './prepare.js';
import { meaningDigest } from './digest.js';
import { parsePolicies } from './index.js';

void test('nulls are dropped as the API server prunes them: a warning per spec field, none for metadata', () => {
  const doc = {
    apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorPolicy',
    metadata: { name: 'p', creationTimestamp: null, labels: { dir: 'x', action: '' } },
    spec: { selector: { matchExpressions: null, matchLabels: { app: null, dir: 'y' } }, file: { matchPaths: [{ path: '/a', fromSource: null }] } },
  };
  const { value, findings } = prepareDocument(doc);
  assert.deepEqual(value, {
    apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorPolicy',
    metadata: { name: 'p', labels: { dir: 'x', action: '' } },
    spec: { selector: { matchLabels: { dir: 'y' } }, file: { matchPaths: [{ path: '/a' }] } },
  });
  assert.deepEqual(findings.map((f) => f.field), ['spec.selector.matchExpressions', 'spec.selector.matchLabels.app', 'spec.file.matchPaths[0].fromSource']);
  assert.ok(findings.every((f) => f.severity === 'warning'));
  assert.equal(doc.spec.selector.matchExpressions, null, 'the input is not changed');
});

void test('an unset action ("") is not set; a dir without separator gets one (warned); labels are not read into', () => {
  const { value, findings } = prepareDocument({
    spec: { action: '', nodeSelector: { matchLabels: { dir: 'C:\\x' } }, process: { matchDirectories: [{ dir: 'C:\\Tools' }, { dir: '/usr/bin' }, { dir: '/etc/' }] } },
  });
  assert.deepEqual(value.spec, { nodeSelector: { matchLabels: { dir: 'C:\\x' } }, process: { matchDirectories: [{ dir: 'C:\\Tools\\' }, { dir: '/usr/bin/' }, { dir: '/etc/' }] } });
  assert.deepEqual(findings.map((f) => [f.field, f.severity]), [['spec.process.matchDirectories[0].dir', 'warning'], ['spec.process.matchDirectories[1].dir', 'warning']]);
});

void test('the digest is of meaning: key order, zero values and empty sections do not count; content does', () => {
  const id = { kind: 'KubeArmorHostPolicy' as const, name: 'h' };
  const yaml = { nodeSelector: { matchLabels: { os: 'windows' } }, file: { matchPaths: [{ path: 'C:\\x', readOnly: true }] } };
  const karmor = {
    action: '', capabilities: {}, device: {}, network: {}, syscalls: {}, process: {},
    file: { matchPaths: [{ readOnly: true, path: 'C:\\x', ownerOnly: false }] }, nodeSelector: { matchLabels: { os: 'windows' } },
  };
  assert.equal(meaningDigest(id, yaml), meaningDigest(id, karmor));
  assert.equal(meaningDigest(id, { ...yaml, action: 'block' }), meaningDigest(id, { ...yaml, action: 'Block' }));
  assert.notEqual(meaningDigest(id, yaml), meaningDigest(id, { ...yaml, file: { matchPaths: [{ path: 'C:\\x' }] } }));
  assert.notEqual(meaningDigest(id, yaml), meaningDigest({ ...id, name: 'other' }, yaml));
  assert.notEqual(meaningDigest(id, yaml), meaningDigest(id, { ...yaml, nodeSelector: { matchLabels: { os: '' } } }), 'a label value "" is a value');
});

void test('karmor\'s encoding of a policy (empty sections, "status":{}, creationTimestamp null) parses with no warning, same digest as the YAML', () => {
  const yaml = `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: block-notepad}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  process:
    matchPaths: [{path: C:\\Windows\\notepad.exe}]
  action: Block
`;
  const karmor = JSON.stringify({
    apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorHostPolicy',
    metadata: { name: 'block-notepad', creationTimestamp: null },
    spec: {
      nodeSelector: { matchLabels: { 'kubernetes.io/os': 'windows' } },
      process: { matchPaths: [{ path: 'C:\\Windows\\notepad.exe' }] },
      file: {}, network: {}, capabilities: {}, syscalls: {}, device: {}, action: 'Block',
    },
    status: {},
  });
  const [a] = parsePolicies(yaml, 'file').documents;
  const [b] = parsePolicies(karmor, 'grpc').documents;
  assert.deepEqual(a!.problems, []);
  assert.deepEqual(b!.problems, []);
  assert.equal(a!.policy!.digest, b!.policy!.digest);
});
