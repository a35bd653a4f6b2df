import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flavor, MatchType, RULE_FLAG_READ_ONLY, RuleAction, RuleKind } from '../../driver/abi/types.js';
import { PolicyCompiler, formatRuleId, parsePolicies } from './index.js';
import { hostPolicy } from '../../test/fixtures/policies/make-policy.js';

const policy = hostPolicy;

const windows = () => new PolicyCompiler({ flavor: Flavor.Windows, nodeLabels: { 'kubearmor.io/hostname': 'win-1' } });

void test('rules map as documented: kinds, match types, read-only flag, one rule per fromSource', () => {
  const compiled = windows().compile(policy('map', `  process:
    matchPaths: [{path: C:\\a.exe, fromSource: [{path: C:\\x.exe}, {dir: C:\\tools\\, recursive: true}]}]
    matchDirectories: [{dir: C:\\d\\}, {dir: C:\\r\\, recursive: true}]
    matchPatterns: [{pattern: C:\\**\\*.ps1}]
  file:
    matchPaths: [{path: C:\\f.txt, readOnly: true, action: Audit}]`));
  const rules = compiled.rules.map((r) => [r.kind, r.target.match, r.target.path, r.source?.match, r.source?.path, r.flags, r.action]);
  assert.deepEqual(rules, [
    [RuleKind.Process, MatchType.Exact, 'C:\\a.exe', MatchType.Exact, 'C:\\x.exe', 0, RuleAction.Block],
    [RuleKind.Process, MatchType.Exact, 'C:\\a.exe', MatchType.Recursive, 'C:\\tools\\', 0, RuleAction.Block],
    [RuleKind.Process, MatchType.Directory, 'C:\\d\\', undefined, undefined, 0, RuleAction.Block],
    [RuleKind.Process, MatchType.Recursive, 'C:\\r\\', undefined, undefined, 0, RuleAction.Block],
    [RuleKind.Process, MatchType.Glob, 'C:\\**\\*.ps1', undefined, undefined, 0, RuleAction.Block],
    [RuleKind.File, MatchType.Exact, 'C:\\f.txt', undefined, undefined, RULE_FLAG_READ_ONLY, RuleAction.Audit],
  ]);
});

void test('rule ids are stable, nonzero and depend only on what the driver enforces', () => {
  const a = windows().compile(policy('alpha', '  file: {matchPaths: [{path: C:\\Data\\x.txt}]}', { severity: 9 })).rules[0]!;
  const b = windows().compile(policy('beta', '  file: {matchPaths: [{path: c:/data/X.TXT, message: other, tags: [t]}]}')).rules[0]!;
  assert.equal(a.id, b.id, 'name, severity, message and case do not change the id');
  // Fixed across machines and releases: a change here breaks every deployed rule table.
  assert.equal(formatRuleId(a.id), '0x816eceda74a2d5dc');
  const audit = windows().compile(policy('gamma', '  file: {matchPaths: [{path: C:\\Data\\x.txt, action: Audit}]}')).rules[0]!;
  assert.notEqual(audit.id, a.id, 'the action is part of the rule');
  const posix = new PolicyCompiler({ flavor: Flavor.Posix }).compile(policy('p', '  file: {matchPaths: [{path: /Data/x}, {path: /data/x}]}'));
  assert.equal(new Set(posix.rules.map((r) => r.id)).size, 2, 'posix paths are case-sensitive');
});

void test('compile results are cached per policy by content digest', () => {
  const compiler = windows();
  const p = policy('cached', '  file: {matchPaths: [{path: C:\\a.txt}]}');
  const first = compiler.compile(p);
  assert.equal(compiler.compile(p).rules, first.rules, 'same digest: the same rules, not recompiled');
  const changed = policy('cached', '  file: {matchPaths: [{path: C:\\b.txt}]}');
  assert.notEqual(compiler.compile(changed).rules, first.rules);
});

void test('selection: host policies by node labels, container policies reported as not enforced', () => {
  const compiler = windows();
  const other = policy('other', '  file: {matchPaths: [{path: C:\\a.txt}]}', { labels: 'kubearmor.io/hostname: win-2' });
  const before = compiler.compile(other);
  assert.deepEqual([before.selection.selected, before.rules.length], [false, 0]);
  compiler.setNodeLabels({ 'kubearmor.io/hostname': 'WIN-2' });
  assert.equal(compiler.compile(other).rules.length, 1, 'host names compare case-insensitively');
  const ksp = parsePolicies('apiVersion: security.kubearmor.com/v1\nkind: KubeArmorPolicy\nmetadata: {name: k, namespace: n}\nspec: {process: {matchPaths: [{path: C:\\a.exe}]}}', 'k.yaml').documents[0]!.policy!;
  const compiled = compiler.compile(ksp);
  assert.deepEqual([compiled.selection.enforced, compiled.rules.length, compiled.valid], [false, 0, true]);
  assert.match(compiled.selection.reason, /not enforced on this node yet/);
});

void test('a path the node cannot enforce makes the compile invalid, with the field and line', () => {
  const compiled = windows().compile(policy('bad', '  file:\n    matchPaths:\n      - path: C:\\ok.txt\n      - path: /etc/passwd'));
  assert.equal(compiled.valid, false);
  assert.equal(compiled.rules.length, 0);
  assert.deepEqual(compiled.problems.map((p) => [p.code, p.path, p.line, p.column]), [['flavor', 'spec.file.matchPaths[1].path', 10, 15]]);
});

void test('the context key changes with the flavour or environment, and only then', () => {
  const compiler = new PolicyCompiler({ flavor: Flavor.Windows, environment: { SystemDrive: 'D:' } });
  const key = compiler.contextKey;
  assert.equal(compiler.contextKey, key);
  assert.equal(new PolicyCompiler({ flavor: Flavor.Windows, environment: { SystemDrive: 'D:' } }).contextKey, key);
  compiler.setNodeLabels({ a: 'b' });
  assert.equal(compiler.contextKey, key, 'labels select, they do not change a translation');
  compiler.configure({ environment: { SystemDrive: 'E:' } });
  assert.notEqual(compiler.contextKey, key);
  compiler.configure({ environment: { SystemDrive: 'D:' } });
  assert.equal(compiler.contextKey, key);
  compiler.configure({ flavor: Flavor.Posix });
  assert.notEqual(compiler.contextKey, key);
});
