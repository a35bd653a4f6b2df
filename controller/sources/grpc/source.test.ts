import { test } from 'node:test';
import { MemoryLogger } from '../../observability/index.js';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GrpcPolicySource, PolicyOutcomeStatus as S, type PolicyRpc } from './index.js';
import { fakeValidator, recordingSink } from '../../grpc/testing.js';
import { parsePolicies } from '../../policy/index.js';

const enc = (v: unknown) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v));
const hostPolicy = (name: string, action = 'Block', extra: Record<string, unknown> = {}) => ({
  apiVersion: 'security.kubearmor.com/v1',
  kind: 'KubeArmorHostPolicy',
  metadata: { name },
  spec: { nodeSelector: { matchLabels: { 'kubernetes.io/os': 'windows' } }, file: { matchPaths: [{ path: 'C:\\secret.txt' }] }, action, ...extra },
});
const event = (type: string, object: unknown) => enc({ type, object });

async function fresh(enabled?: Partial<Record<PolicyRpc, boolean>>) {
  const stateDir = await mkdtemp(join(tmpdir(), 'kawin-grpc-src-'));
  const source = new GrpcPolicySource({ stateDir, validate: fakeValidator, enabled });
  const { sink, log } = recordingSink();
  await source.start(sink);
  return { stateDir, source, log, sink, cleanup: () => rm(stateDir, { recursive: true, force: true }) };
}

void test('upstream statuses: new Applied, identical Applied, changed Modified, delete Deleted, unknown NotExist', async () => {
  const { source, log, cleanup } = await fresh();
  assert.equal((await source.apply('hostPolicy', event('ADDED', hostPolicy('a')))).status, S.Applied);
  assert.equal(log.upserts.length, 1);
  assert.equal(log.upserts[0]!.origin, 'grpc:KubeArmorHostPolicy/a');
  assert.deepEqual(JSON.parse(log.upserts[0]!.text), hostPolicy('a'));
  const same = await source.apply('hostPolicy', event('ADDED', hostPolicy('a')));
  assert.equal(same.status, S.Applied);
  assert.equal(log.upserts.length, 1, 'identical: nothing re-sent');
  assert.equal((await source.apply('hostPolicy', event('ADDED', hostPolicy('a', 'Audit')))).status, S.Modified);
  assert.equal((await source.apply('hostPolicy', event('MODIFIED', hostPolicy('a', 'Allow')))).status, S.Modified);
  assert.equal((await source.apply('hostPolicy', event('MODIFIED', hostPolicy('a', 'Allow')))).status, S.Applied);
  assert.equal((await source.apply('hostPolicy', event('DELETED', { metadata: { name: 'a' } }))).status, S.Deleted);
  assert.deepEqual(log.removes, [{ source: 'grpc', origin: 'grpc:KubeArmorHostPolicy/a' }]);
  assert.equal((await source.apply('hostPolicy', event('DELETED', { metadata: { name: 'a' } }))).status, S.NotExist);
  assert.equal((await source.apply('hostPolicy', event('MODIFIED', hostPolicy('never')))).status, S.NotExist);
  assert.equal(log.syncs.length, 1 + 4, 'synced after restore and after every change');
  await cleanup();
});

void test('key order and API-server metadata do not make a policy "modified"', async () => {
  const { source, cleanup } = await fresh();
  await source.apply('hostPolicy', event('ADDED', hostPolicy('k')));
  const reordered = { spec: hostPolicy('k').spec, metadata: { resourceVersion: '7', name: 'k' }, kind: 'KubeArmorHostPolicy', status: { status: 'OK' } };
  assert.equal((await source.apply('hostPolicy', event('ADDED', reordered))).status, S.Applied);
  assert.equal(source.list().length, 1);
  await cleanup();
});

void test('Invalid: bad JSON, bad UTF-8, not an object, empty name, bad type, wrong kind, failed validation; nothing touched', async () => {
  const { source, log, stateDir, cleanup } = await fresh();
  await source.apply('hostPolicy', event('ADDED', hostPolicy('keep')));
  const before = await readdir(join(stateDir, 'grpc-policies'));
  const cases: [string, Buffer][] = [
    ['json', enc('{"type": "ADDED", "object": ')],
    ['utf8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
    ['array', enc([1, 2])],
    ['empty name', event('ADDED', { metadata: { name: '' }, spec: {} })],
    ['no metadata', event('ADDED', { spec: {} })],
    ['type', event('UPSERT', hostPolicy('x'))],
    ['kind', event('ADDED', { ...hostPolicy('x'), kind: 'KubeArmorPolicy' })],
    ['unknown kind', event('ADDED', { ...hostPolicy('x'), kind: 'Pod' })],
    ['validation', event('ADDED', hostPolicy('keep', 'Explode'))],
    ['empty', Buffer.alloc(0)],
  ];
  for (const [what, bytes] of cases) {
    const r = await source.apply('hostPolicy', bytes);
    assert.equal(r.status, S.Invalid, what);
    assert.ok(r.problems.length > 0 && r.message.length > 0, what);
  }
  const v = await source.apply('hostPolicy', event('ADDED', hostPolicy('keep', 'Explode')));
  assert.equal(v.problems[0]!.path, 'spec.action');
  assert.equal(log.upserts.length, 1);
  assert.deepEqual(await readdir(join(stateDir, 'grpc-policies')), before);
  assert.equal(JSON.parse(source.get({ kind: 'KubeArmorHostPolicy', name: 'keep' })!.text).spec.action, 'Block');
  await cleanup();
});

void test('warnings do not reject; NotEnabled is answered before parsing, as upstream', async () => {
  const { source, cleanup } = await fresh({ hostPolicy: false });
  assert.equal((await source.apply('hostPolicy', enc('not json'))).status, S.NotEnabled);
  assert.equal((await source.apply('networkPolicy', event('ADDED', hostPolicy('n')))).status, S.NotEnabled);
  const c = await source.apply('containerPolicy', event('ADDED', { kind: 'KubeArmorPolicy', metadata: { name: 'c', namespace: 'web' }, spec: { action: 'Audit', unsupported: true } }));
  assert.equal(c.status, S.Applied);
  assert.equal(c.problems[0]!.severity, 'warning');
  assert.equal(source.list()[0]!.origin, 'grpc:KubeArmorPolicy/web/c');
  const byKinds = new GrpcPolicySource({ stateDir: '/nonexistent', validate: fakeValidator, kinds: ['KubeArmorPolicy'] });
  assert.deepEqual(['hostPolicy', 'containerPolicy', 'networkPolicy'].map((r) => byKinds.isEnabled(r as PolicyRpc)), [false, true, false]);
  // delete without a namespace finds the only match, as karmor sends it
  assert.equal((await source.apply('containerPolicy', event('DELETED', { metadata: { name: 'c' } }))).status, S.Deleted);
  await cleanup();
});

void test('persisted policies are restored after a restart, then synced; deleted ones stay deleted', async () => {
  const { stateDir, source, cleanup } = await fresh();
  await source.apply('hostPolicy', event('ADDED', hostPolicy('one')));
  await source.apply('hostPolicy', event('ADDED', hostPolicy('two', 'Audit')));
  await source.apply('hostPolicy', event('ADDED', hostPolicy('three')));
  await source.apply('hostPolicy', event('DELETED', { metadata: { name: 'three' } }));
  await source.apply('containerPolicy', event('ADDED', { kind: 'KubeArmorPolicy', metadata: { name: 'x'.repeat(250), namespace: 'ns' }, spec: { action: 'Block' } }));
  const revisionBefore = (source as unknown as { records: Map<string, unknown> }).records.size;
  await source.stop();
  await writeFile(join(stateDir, 'grpc-policies', '.tmp-deadbeef'), 'half a write');
  await writeFile(join(stateDir, 'grpc-policies', 'garbage.json'), '{ nope');

  const again = new GrpcPolicySource({ stateDir, validate: fakeValidator });
  const { sink, log } = recordingSink();
  await again.start(sink);
  assert.deepEqual(log.upserts.map((u) => u.origin).sort(), ['grpc:KubeArmorHostPolicy/one', 'grpc:KubeArmorHostPolicy/two', `grpc:KubeArmorPolicy/ns/${'x'.repeat(250)}`]);
  assert.equal(revisionBefore, 3);
  assert.equal(log.syncs.length, 1);
  assert.equal(JSON.parse(log.upserts.find((u) => u.origin.endsWith('/two'))!.text).spec.action, 'Audit');
  const files = await readdir(join(stateDir, 'grpc-policies'));
  assert.ok(files.includes('garbage.json.corrupt') && !files.includes('.tmp-deadbeef'));
  // identical re-apply after restart: Applied, nothing re-sent
  assert.equal((await again.apply('hostPolicy', event('ADDED', hostPolicy('one')))).status, S.Applied);
  assert.equal(log.upserts.length, 3);
  const stored = JSON.parse(await readFile(join(stateDir, 'grpc-policies', 'KubeArmorHostPolicy%2Fone.json'), 'utf8'));
  assert.equal(stored.origin, 'grpc:KubeArmorHostPolicy/one');
  await cleanup();
});

void test('a policy that cannot be persisted is not applied (Failure)', async () => {
  const { stateDir, source, log, cleanup } = await fresh();
  await rm(join(stateDir), { recursive: true, force: true });
  await writeFile(stateDir, 'a file where the state directory should be');
  const r = await source.apply('hostPolicy', event('ADDED', hostPolicy('p')));
  assert.equal(r.status, S.Failure);
  assert.match(r.message, /cannot persist/);
  assert.equal(log.upserts.length, 0);
  await cleanup();
});

void test('a wrong apiVersion or a name Kubernetes would refuse is Invalid, with the reason; nothing persisted', async () => {
  const { source, log, stateDir, cleanup } = await fresh();
  const cases: [string, unknown][] = [
    ['other group', { ...hostPolicy('v'), apiVersion: 'example.com/v1' }],
    ['other version', { ...hostPolicy('v'), apiVersion: 'security.kubearmor.com/v2' }],
    ['not a string', { ...hostPolicy('v'), apiVersion: 7 }],
    ['dot-dot', hostPolicy('a..b')],
    ['only dots', hostPolicy('..')],
    ['bidi control', hostPolicy('evil\u202Eexe.cod')],
    ['upper case', hostPolicy('Block-Cmd')],
    ['slash', hostPolicy('a/b')],
    ['too long', hostPolicy('x'.repeat(254))],
    ['huge', hostPolicy('x'.repeat(100_000))],
  ];
  for (const [what, object] of cases) {
    const r = await source.apply('hostPolicy', event('ADDED', object));
    assert.equal(r.status, S.Invalid, what);
    assert.ok(r.message.length < 1000, `${what}: the reason is bounded (${r.message.length} characters)`);
  }
  const ns = await source.apply('containerPolicy', event('ADDED', { kind: 'KubeArmorPolicy', metadata: { name: 'c', namespace: 'Bad_NS' }, spec: { action: 'Audit' } }));
  assert.equal(ns.status, S.Invalid, 'namespace: a DNS label');
  assert.match((await source.apply('hostPolicy', event('ADDED', { ...hostPolicy('v'), apiVersion: 'example.com/v1' }))).message, /apiVersion/);
  assert.match((await source.apply('hostPolicy', event('ADDED', hostPolicy('a..b')))).message, /metadata\.name/);
  assert.equal(log.upserts.length, 0);
  await assert.rejects(readdir(join(stateDir, 'grpc-policies')), /ENOENT/, 'nothing persisted');
  assert.equal((await source.apply('hostPolicy', event('ADDED', hostPolicy('a.b-c.d')))).status, S.Applied, 'a DNS subdomain is fine');
  await cleanup();
});

void test('a persisted policy whose file does not match its content is refused at restore, with a logged error', async () => {
  const { stateDir, source, cleanup } = await fresh();
  await source.apply('hostPolicy', event('ADDED', hostPolicy('victim', 'Block')));
  await source.apply('hostPolicy', event('ADDED', hostPolicy('other', 'Block')));
  await source.stop();
  const dir = join(stateDir, 'grpc-policies');
  // Planted: an envelope naming "victim" around a policy that is really "other" (Allow).
  await writeFile(join(dir, 'KubeArmorHostPolicy%2Fvictim.json'), JSON.stringify({ origin: 'grpc:KubeArmorHostPolicy/victim', rpc: 'hostPolicy', policy: hostPolicy('other', 'Allow') }));
  // Planted: a file whose name is not the one its origin is stored under.
  await writeFile(join(dir, 'KubeArmorHostPolicy%2Fzzz.json'), JSON.stringify({ origin: 'grpc:KubeArmorHostPolicy/other', rpc: 'hostPolicy', policy: hostPolicy('other', 'Allow') }));
  const logger = new MemoryLogger();
  const errorsOf = () => logger.records.filter((r) => r.level === 'error').map(({ msg, ...fields }) => ({ msg, fields }));
  const again = new GrpcPolicySource({ stateDir, validate: fakeValidator, logger });
  const { sink, log } = recordingSink();
  await again.start(sink);
  assert.deepEqual(log.upserts.map((u) => u.origin), ['grpc:KubeArmorHostPolicy/other']);
  assert.equal(JSON.parse(log.upserts[0]!.text).spec.action, 'Block', 'the planted Allow did not override "other"');
  const errors = errorsOf();
  assert.equal(errors.length, 2, JSON.stringify(errors));
  for (const e of errors) {
    assert.match(e.msg, /refused: not restored/);
    assert.match(String(e.fields?.error), /does not match/);
  }
  await cleanup();
});

/** The policy module's own verdict, as the agent wires it (controller/agent/services.ts). */
function realValidator(text: string, location: string) {
  const [doc] = parsePolicies(text, location).documents;
  return { identity: doc?.identity, errors: doc?.problems ?? [], digest: doc?.policy?.digest };
}

void test('same meaning, same answer: karmor\'s re-encoding, without apiVersion and kind, answers Applied; a real change Modified', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'kawin-grpc-src-'));
  const source = new GrpcPolicySource({ stateDir, validate: realValidator });
  const { sink, log } = recordingSink();
  await source.start(sink);
  const yamlLike = hostPolicy('same');
  const first = await source.apply('hostPolicy', event('ADDED', yamlLike));
  assert.equal(first.status, S.Applied, first.message);
  assert.deepEqual(first.problems, []);
  // What karmor's Go types encode for the same file: empty sections, zero values, status, null timestamp.
  const karmor = {
    metadata: { name: 'same', creationTimestamp: null },
    spec: { ...yamlLike.spec, process: {}, network: {}, capabilities: {}, syscalls: {}, device: {}, file: { matchPaths: [{ path: 'C:\\secret.txt', readOnly: false }] } },
    status: {},
  };
  const again = await source.apply('hostPolicy', event('ADDED', karmor));
  assert.equal(again.status, S.Applied, again.message);
  assert.deepEqual(again.problems, [], 'no warnings for empty sections');
  assert.equal(log.upserts.length, 1, 'nothing re-sent to the store');
  const changed = await source.apply('hostPolicy', event('MODIFIED', { ...karmor, spec: { ...karmor.spec, action: 'Audit' } }));
  assert.equal(changed.status, S.Modified);
  // A restart keeps telling identical from modified by meaning.
  await source.stop();
  const restarted = new GrpcPolicySource({ stateDir, validate: realValidator });
  await restarted.start(recordingSink().sink);
  assert.equal((await restarted.apply('hostPolicy', event('ADDED', { ...hostPolicy('same', 'audit') }))).status, S.Applied);
  await rm(stateDir, { recursive: true, force: true });
});
