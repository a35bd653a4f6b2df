import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command } from './policy.js';
import { GrpcPolicySource } from '../../sources/grpc/index.js';
import { adminServiceBinding, toProtoKind, type AdminBackend } from '../../grpc/index.js';
import { policyServiceBinding } from '../../sources/grpc/index.js';
import { fakeValidator, recordingSink, startTestServer } from '../../grpc/testing.js';
import { ChangeType, DeleteOutcome, PolicyState } from '../../../proto/gen/kawin_admin.js';

const twoPolicies = `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: block-cmd
spec:
  process:
    matchPaths:
      - path: C:\\Windows\\System32\\cmd.exe
  action: Block
---
# an empty document is skipped
---
apiVersion: security.kubearmor.com/v1
kind: KubeArmorPolicy
metadata:
  name: audit-web
  namespace: web
spec:
  action: Audit
`;

function io() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { stdout: (t: string) => { out.push(t); }, stderr: (t: string) => { err.push(t); }, isTTY: false } };
}

async function setup() {
  const dir = await mkdtemp(join(tmpdir(), 'kawin-cli-policy-'));
  const source = new GrpcPolicySource({ stateDir: join(dir, 'state'), validate: fakeValidator });
  await source.start(recordingSink().sink);
  const backend: AdminBackend = {
    listPolicies: () => source.list().map((r) => ({
      ref: { kind: toProtoKind(r.identity.kind), namespace: r.identity.namespace ?? '', name: r.identity.name }, source: 'grpc', origin: r.origin,
      state: PolicyState.POLICY_STATE_APPLIED, ruleCount: 1, problems: [], warnings: [], action: '', severity: 0, tags: [], revision: '', updatedTime: '', reasons: [], conflicts: [],
    })),
    getPolicy: () => undefined,
    deletePolicy: async (ref) => {
      const r = await source.delete({ kind: ref.kind === 1 ? 'KubeArmorHostPolicy' : 'KubeArmorPolicy', name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) });
      return { outcome: r.status === 2 ? DeleteOutcome.DELETE_OUTCOME_DELETED : DeleteOutcome.DELETE_OUTCOME_NOT_FOUND, message: r.message };
    },
    diff: (docs) => {
      const invalid = docs.some((d) => d.text.includes('Explode'));
      const changed = docs.some((d) => d.text.includes('Block'));
      return {
        problems: invalid ? [{ location: docs[0]!.location, line: 3, column: 1, path: 'spec.action', message: 'bad action' }] : [],
        changed: changed && !invalid,
        policies: changed ? [{ ref: { kind: 1, namespace: '', name: 'block-cmd' }, location: docs[0]!.location, change: ChangeType.CHANGE_TYPE_CREATE, rulesAdded: [{ ruleId: '42', action: 'Block', operation: 'Process', target: 'C:\\Windows\\System32\\cmd.exe', description: '' }], rulesRemoved: [], rulesUnchanged: 0, problems: [], warnings: [] }] : [],
      };
    },
    status: () => { throw new Error('unused'); },
  };
  const peers = { mutualTls: false, unixSocketOnly: false };
  const running = await startTestServer([policyServiceBinding(source, peers), adminServiceBinding(backend, peers)]);
  const run = (...args: string[]) => { const o = io(); return command.run([...args, '--address', running.target], o.io).then((code) => ({ code, ...o })); };
  return { dir, run, cleanup: async () => { await running.stop(); await rm(dir, { recursive: true, force: true }); } };
}

void test('kawin policy apply routes each document by kind and prints each outcome', async () => {
  const t = await setup();
  const file = join(t.dir, 'p.yaml');
  await writeFile(file, twoPolicies);
  const first = await t.run('apply', '-f', file);
  assert.equal(first.code, 0, first.err.join('\n'));
  assert.deepEqual(first.out, [`${file}#1: KubeArmorHostPolicy/block-cmd: Applied`, `${file}#3: KubeArmorPolicy/audit-web: Applied`]);
  const dirRun = await t.run('apply', '-f', t.dir);
  assert.equal(dirRun.code, 0);
  await writeFile(join(t.dir, 'bad.yaml'), 'kind: KubeArmorHostPolicy\nmetadata:\n  name: bad\nspec:\n  action: Explode\n---\nkind: Pod\nmetadata: {name: x}\n');
  const bad = await t.run('apply', '-f', join(t.dir, 'bad.yaml'));
  assert.equal(bad.code, 1);
  assert.match(bad.err.join('\n'), /KubeArmorHostPolicy\/bad: Invalid/);
  assert.match(bad.err.join('\n'), /spec\.action: spec\.action must be Allow, Audit or Block/);
  assert.match(bad.err.join('\n'), /kind "Pod" cannot be applied/);
  await writeFile(join(t.dir, 'syntax.yaml'), 'kind: [unclosed\n');
  await assert.rejects(t.run('apply', '-f', join(t.dir, 'syntax.yaml')), /syntax\.yaml:2:1/);
  await t.cleanup();
});

void test('kawin policy list / delete / diff', async () => {
  const t = await setup();
  const file = join(t.dir, 'p.yaml');
  await writeFile(file, twoPolicies);
  await t.run('apply', '-f', file);
  const table = await t.run('list');
  assert.match(table.out[0]!, /^KIND\s+NAMESPACE\s+NAME\s+SOURCE\s+STATE\s+RULES/);
  assert.match(table.out[0]!, /KubeArmorPolicy\s+web\s+audit-web\s+grpc\s+APPLIED/);
  const json = JSON.parse((await t.run('list', '--output', 'json')).out[0]!) as unknown[];
  assert.equal(json.length, 2);
  const del = await t.run('delete', 'khp/block-cmd');
  assert.equal(del.code, 0, del.err.join('\n'));
  assert.deepEqual(del.out, ['KubeArmorHostPolicy/block-cmd: deleted']);
  assert.equal((await t.run('delete', 'khp/block-cmd')).code, 1);
  assert.equal((await t.run('delete', '-f', file)).code, 1, 'block-cmd already gone');
  await assert.rejects(t.run('delete', 'nonsense'), /kind/);
  const changed = await t.run('diff', '-f', file);
  assert.equal(changed.code, 1);
  assert.match(changed.out.join('\n'), /\+ Block\s+Process C:\\Windows\\System32\\cmd\.exe/);
  await writeFile(join(t.dir, 'audit.yaml'), 'kind: KubeArmorHostPolicy\nmetadata: {name: a}\nspec: {action: Audit}\n');
  assert.equal((await t.run('diff', '-f', join(t.dir, 'audit.yaml'))).code, 0);
  await writeFile(join(t.dir, 'explode.yaml'), 'kind: KubeArmorHostPolicy\nmetadata: {name: a}\nspec: {action: Explode}\n');
  const bad = await t.run('diff', '-f', join(t.dir, 'explode.yaml'));
  assert.equal(bad.code, 2);
  assert.match(bad.out.join('\n'), /explode\.yaml:3:1: error: spec\.action: bad action/);
  await t.cleanup();
});

void test('an unreachable agent is a clear error (diff exits 2)', async () => {
  const o = io();
  const dir = await mkdtemp(join(tmpdir(), 'kawin-cli-policy-'));
  await writeFile(join(dir, 'a.yaml'), 'kind: KubeArmorHostPolicy\nmetadata: {name: a}\nspec: {action: Audit}\n');
  const code = await command.run(['diff', '-f', dir, '--address', '127.0.0.1:1'], o.io);
  assert.equal(code, 2);
  assert.match(o.err.join('\n'), /cannot reach kawin at 127\.0\.0\.1:1/);
  await rm(dir, { recursive: true, force: true });
});
