import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicies, PolicyValidationError, POLICY_LIMITS, type ParseResult } from './index.js';

const host = (name: string, body = '  file: {matchPaths: [{path: C:\\x.txt}]}') => `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: ${name}}
spec:
  nodeSelector: {matchLabels: {}}
${body}
`;
const errors = (r: ParseResult) => r.documents.flatMap((d) => d.problems).filter((p) => p.severity === 'error');

void test('a multi-document stream skips empty documents and ties each policy to its line', () => {
  const r = parsePolicies(`---\n---\n# nothing\n---\n${host('a')}---\n${host('b')}`, 'p.yaml');
  assert.deepEqual(r.documents.map((d) => [d.key, d.line]), [['KubeArmorHostPolicy/a', 5], ['KubeArmorHostPolicy/b', 12]]);
  assert.deepEqual(r.documents.map((d) => d.index), [2, 3]);
  assert.equal(r.documents[1]!.policy!.location, 'p.yaml');
});

void test('JSON is read like YAML, with positions', () => {
  const r = parsePolicies('{"apiVersion": "security.kubearmor.com/v1", "kind": "KubeArmorHostPolicy",\n "metadata": {"name": "j"},\n "spec": {"nodeSelector": {"matchLabels": {}}, "file": {"matchPaths": [{"path": "x.txt"}]}}}', 'p.json');
  const [problem] = errors(r);
  assert.deepEqual([problem!.line, problem!.column, problem!.path], [3, 82, 'spec.file.matchPaths[0].path']);
});

void test('one invalid document does not invalidate the others of the same file', () => {
  const r = parsePolicies(`${host('bad', '  severity: 99')}---\n${host('good')}`, 'p.yaml');
  assert.equal(r.documents[0]!.policy, undefined);
  assert.equal(r.documents[0]!.key, 'KubeArmorHostPolicy/bad');
  assert.ok(r.documents[1]!.policy);
});

void test('every problem of a document is reported at once, each with line, column and field path', () => {
  const r = parsePolicies(host('many', '  severity: 0\n  action: deny\n  file:\n    matchPaths:\n      - path: a.txt\n      - path: C:\\..\\b.txt\n      - paht: C:\\c.txt'), 'p.yaml');
  const found = errors(r).map((p) => `${p.line}:${p.column} ${p.path}`);
  assert.deepEqual(found, [
    '6:13 spec.severity', '7:11 spec.action', '10:15 spec.file.matchPaths[0].path', '11:15 spec.file.matchPaths[1].path',
    '12:9 spec.file.matchPaths[2].paht', '12:9 spec.file.matchPaths[2].path',
  ]);
});

void test('a YAML syntax error is one problem for the whole text', () => {
  const r = parsePolicies('a: [1\nb: 2', 'bad.yaml');
  assert.equal(r.documents.length, 0);
  assert.equal(r.problems.length, 1);
  assert.equal(r.problems[0]!.code, 'syntax');
  assert.ok(r.problems[0]!.line > 0);
});

void test('oversized texts and documents are refused with the limit named', () => {
  const text = host('big', `  message: "${'x'.repeat(2000)}"`);
  const whole = parsePolicies(text, 'big.yaml', { limits: { maxSourceBytes: 1000 } });
  assert.equal(whole.problems[0]!.code, 'limit.size');
  assert.match(whole.problems[0]!.message, /maxSourceBytes/);
  const one = parsePolicies(`${text}---\n${host('small')}`, 'big.yaml', { limits: { maxDocumentBytes: 1000 } });
  assert.equal(one.documents[0]!.problems[0]!.code, 'limit.size');
  assert.ok(one.documents[1]!.policy, 'the small document is still read');
  assert.ok(POLICY_LIMITS.maxDocumentBytes > 1_000_000);
});

void test('alias bombs and deep nesting are refused', () => {
  const aliases = parsePolicies(`a: &a [1]\nb: [${Array(20).fill('*a').join(', ')}]`, 'lol.yaml');
  assert.equal(aliases.documents[0]!.problems[0]!.code, 'limit.aliases');
  const deep = parsePolicies(`${'['.repeat(80)}${']'.repeat(80)}`, 'deep.yaml');
  assert.equal(deep.problems[0]!.code, 'limit.depth');
});

void test('actions are capitalised, default to Block, and inherit rule → category → spec with severity, tags and message', () => {
  const r = parsePolicies(host('inherit', `  action: audit
  severity: 2
  tags: [spec]
  message: from spec
  process:
    matchPaths: [{path: C:\\p.exe}]
  file:
    action: allow
    tags: [file]
    matchPaths:
      - {path: C:\\a.txt}
      - {path: C:\\b.txt, action: block, severity: 9, message: mine}`), 'p.yaml');
  const rules = r.documents[0]!.policy!.rules.map((x) => [x.value, x.action, x.severity, x.tags.join(), x.message]);
  assert.deepEqual(rules, [
    ['C:\\p.exe', 'Audit', 2, 'spec', 'from spec'],
    ['C:\\a.txt', 'Allow', 2, 'file', 'from spec'],
    ['C:\\b.txt', 'Block', 9, 'file', 'mine'],
  ]);
  const bare = parsePolicies(host('bare'), 'p.yaml').documents[0]!.policy!;
  assert.equal(bare.rules[0]!.action, 'Block');
});

void test('fields Windows cannot enforce are warnings with their location; the policy stays valid', () => {
  const r = parsePolicies(host('w', '  process:\n    matchPaths:\n      - {path: C:\\a.exe, ownerOnly: true}\n  network:\n    matchProtocols: [{protocol: tcp, fromSource: [{path: C:\\b.exe}]}]'), 'p.yaml');
  const doc = r.documents[0]!;
  assert.ok(doc.policy);
  assert.deepEqual(doc.problems.map((p) => [p.severity, p.code, p.path, p.line]), [
    ['warning', 'unsupported', 'spec.process.matchPaths[0].ownerOnly', 8],
    ['warning', 'unsupported', 'spec.network', 9],
  ]);
});

void test('identity: namespaced policies default to "default", other documents are skipped with a warning', () => {
  const r = parsePolicies('apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata: {name: k}\nspec: {process: {matchPaths: [{path: C:\\a.exe}]}}\n---\napiVersion: v1\nkind: Secret\n', 'p.yaml');
  assert.equal(r.documents[0]!.key, 'KubeArmorPolicy/default/k');
  assert.equal(r.documents[1]!.skipped, true);
  assert.equal(r.documents[1]!.problems[0]!.severity, 'warning');
});

void test('PolicyValidationError carries every problem', () => {
  const r = parsePolicies(host('bad', '  severity: 0'), 'p.yaml');
  const error = new PolicyValidationError(r.documents[0]!.problems);
  assert.equal(error.problems.length, 1);
  assert.match(error.message, /p\.yaml:6:13: error: spec\.severity/);
});

void test('the JSON and YAML forms of a policy read the same, digest included', () => {
  const yaml = parsePolicies(host('same', "  file: {matchPaths: [{path: '%SystemRoot%\\x.txt', readOnly: true}]}"), 'p.yaml').documents[0]!.policy!;
  const json = parsePolicies(JSON.stringify({
    apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorHostPolicy', metadata: { name: 'same' },
    spec: { nodeSelector: { matchLabels: {} }, file: { matchPaths: [{ path: '%SystemRoot%\\x.txt', readOnly: true }] } },
  }), 'p.json').documents[0]!.policy!;
  assert.deepEqual(json.rules, yaml.rules);
  assert.equal(json.digest, yaml.digest);
});

void test('comma lists in network and capability entries are expanded (validated, not enforced)', () => {
  const p = parsePolicies(host('nets', '  network:\n    matchProtocols: [{protocol: "TCP, udp", fromSource: [{path: C:\\a.exe}]}]'), 'p.yaml').documents[0]!.policy!;
  assert.deepEqual(p.unenforced.map((u) => u.value), ['tcp', 'udp']);
});

void test('a merge key (<<) works, and a merged __proto__ reaches no prototype (CVE-2025-64718)', () => {
  const merged = parsePolicies(host('merge', '  file:\n    matchPaths:\n      - &base {path: C:\\a.txt, readOnly: true}\n      - <<: *base\n        path: C:\\b.txt'), 'p.yaml');
  assert.deepEqual(merged.documents[0]!.policy!.rules.map((r) => [r.value, r.readOnly]), [['C:\\a.txt', true], ['C:\\b.txt', true]]);

  const evil = host('evil', '  file:\n    matchPaths:\n      - <<: &evil {__proto__: {readOnly: true, polluted: yes}}\n        path: C:\\x.txt\n      - <<: *evil\n        path: C:\\y.txt');
  const r = parsePolicies(evil, 'p.yaml');
  assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype untouched');
  assert.equal(r.documents[0]!.policy, undefined, 'the policy is refused, not enforced with inherited fields');
  assert.deepEqual(errors(r).map((p) => `${p.line}:${p.column} ${p.path}`), ['8:9 spec.file.matchPaths[0].__proto__', '10:9 spec.file.matchPaths[1].__proto__']);
  assert.match(errors(r)[0]!.message, /unknown field "__proto__"/);
});

void test('metadata.name and namespace are checked as Kubernetes does, at the field', () => {
  for (const name of ['"a..b"', '"Block-Cmd"', `"${'x'.repeat(254)}"`, '"evil\\u202Eexe"']) {
    const [problem] = errors(parsePolicies(host(name), 'p.yaml'));
    assert.equal(problem?.path, 'metadata.name', name);
    assert.equal(problem?.line, 3, name);
  }
  const ns = parsePolicies('apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata: {name: a, namespace: Web_1}\nspec: {file: {matchPaths: [{path: /x}]}}\n', 'p.yaml');
  assert.equal(errors(ns)[0]?.path, 'metadata.namespace');
  assert.deepEqual(errors(parsePolicies(host('a.b-c'), 'p.yaml')), []);
});

void test('an entry after one that is not a mapping is named by its own index, at its own line', () => {
  const r = parsePolicies(host('i', "  process:\n    matchPaths:\n      - not-a-mapping\n      - {path: 'C:\\a.exe', ownerOnly: true}\n      - {path: 'relative\\b.exe'}"), 'p.yaml');
  assert.deepEqual(r.documents[0]!.problems.map((p) => [p.path, p.line]), [
    ['spec.process.matchPaths[0]', 8],
    ['spec.process.matchPaths[1].ownerOnly', 9],
    ['spec.process.matchPaths[2].path', 10],
  ]);
});

void test("a rule's field path names its entry, and a source's its fromSource entry", () => {
  const policy = parsePolicies(host('f', "  file:\n    matchDirectories:\n      - {dir: 'C:\\d\\', fromSource: [{path: 'C:\\a.exe'}, {dir: 'C:\\t\\'}]}"), 'p.yaml').documents[0]!.policy!;
  const [rule] = policy.rules;
  assert.equal(rule!.field, 'spec.file.matchDirectories[0].dir');
  assert.deepEqual(rule!.sources.map((s) => s.field), ['spec.file.matchDirectories[0].fromSource[0].path', 'spec.file.matchDirectories[0].fromSource[1].dir']);
});
