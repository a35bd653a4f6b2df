import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, status, type Metadata, type ServiceError } from '@grpc/grpc-js';
import { PolicyServiceClient, PolicyStatus, type response } from '../../../proto/gen/policy.js';
import { GrpcPolicySource } from './source.js';
import { MAX_MESSAGE_TRAILER_BYTES, outcomeTrailer, policyServiceBinding, TRAILER_MESSAGE, TRAILER_PROBLEMS } from './service.js';
import { PolicyOutcomeStatus } from './types.js';
import { statSync } from 'node:fs';
import { KawinGrpcServer, peerPolicyFor } from '../../grpc/server.js';
import { fakeValidator, insecure, recordingSink, separateConnection, startTestServer } from '../../grpc/testing.js';

const local = { mutualTls: false, unixSocketOnly: false };

async function setup(enabled?: { hostPolicy?: boolean }) {
  const stateDir = await mkdtemp(join(tmpdir(), 'kawin-policy-svc-'));
  const source = new GrpcPolicySource({ stateDir, validate: fakeValidator, enabled });
  const { sink, log } = recordingSink();
  await source.start(sink);
  const running = await startTestServer([policyServiceBinding(source, local)]);
  const client = new PolicyServiceClient(running.target, insecure(), separateConnection);
  return {
    running, client, log,
    send: (rpc: 'hostPolicy' | 'containerPolicy' | 'networkPolicy', body: unknown) => callPolicy(client, rpc, Buffer.from(typeof body === 'string' ? body : JSON.stringify(body))),
    cleanup: async () => { client.close(); await running.stop(); await rm(stateDir, { recursive: true, force: true }); },
  };
}

function callPolicy(client: PolicyServiceClient, rpc: 'hostPolicy' | 'containerPolicy' | 'networkPolicy', policy: Buffer) {
  return new Promise<{ status: PolicyStatus; trailer: Metadata }>((resolve, reject) => {
    let trailer: Metadata | undefined;
    const call = client[rpc]({ policy }, (e: ServiceError | null, r: response) => (e ? reject(e) : setImmediate(() => resolve({ status: r.status, trailer: trailer! }))));
    call.on('status', (s: { metadata: Metadata }) => { trailer = s.metadata; });
  });
}

const host = (name: string, action = 'Block') => ({ type: 'ADDED', object: { apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorHostPolicy', metadata: { name }, spec: { action } } });

void test('PolicyService answers Applied / Modified / Deleted / NotExist exactly as upstream, over the wire', async () => {
  const t = await setup();
  assert.equal((await t.send('hostPolicy', host('p1'))).status, PolicyStatus.Applied);
  assert.equal((await t.send('hostPolicy', host('p1'))).status, PolicyStatus.Applied);
  assert.equal((await t.send('hostPolicy', host('p1', 'Audit'))).status, PolicyStatus.Modified);
  assert.equal((await t.send('hostPolicy', { type: 'DELETED', object: { metadata: { name: 'p1' } } })).status, PolicyStatus.Deleted);
  const again = await t.send('hostPolicy', { type: 'DELETED', object: { metadata: { name: 'p1' } } });
  assert.equal(again.status, PolicyStatus.NotExist);
  assert.match(decodeURIComponent(String(again.trailer.get(TRAILER_MESSAGE)[0])), /does not exist/);
  assert.deepEqual(t.log.upserts.map((u) => u.origin), ['grpc:KubeArmorHostPolicy/p1', 'grpc:KubeArmorHostPolicy/p1']);
  await t.cleanup();
});

void test('malformed JSON, empty name, unknown kind and failed validation are Invalid with the reason; the server stays up', async () => {
  const t = await setup();
  assert.equal((await t.send('hostPolicy', '{"type":')).status, PolicyStatus.Invalid);
  assert.equal((await t.send('hostPolicy', { type: 'ADDED', object: { metadata: { name: '' } } })).status, PolicyStatus.Invalid);
  assert.equal((await t.send('containerPolicy', { type: 'ADDED', object: { kind: 'Deployment', metadata: { name: 'x' } } })).status, PolicyStatus.Invalid);
  const bad = await t.send('hostPolicy', host('p2', 'Explode'));
  assert.equal(bad.status, PolicyStatus.Invalid);
  const problems = JSON.parse(decodeURIComponent(String(bad.trailer.get(TRAILER_PROBLEMS)[0]))) as { path: string }[];
  assert.equal(problems[0]!.path, 'spec.action');
  assert.equal(t.log.upserts.length, 0);
  assert.equal((await t.send('hostPolicy', host('p2'))).status, PolicyStatus.Applied);
  await t.cleanup();
});

void test('a 100,000-character name is Invalid with a bounded reason, and the channel keeps working', async () => {
  const t = await setup();
  const huge = await t.send('hostPolicy', host('x'.repeat(100_000)));
  assert.equal(huge.status, PolicyStatus.Invalid);
  assert.match(decodeURIComponent(String(huge.trailer.get(TRAILER_MESSAGE)[0])), /metadata\.name is longer than 253 characters/);
  assert.equal((await t.send('hostPolicy', host('after'))).status, PolicyStatus.Applied, 'the same channel still answers');
  await t.cleanup();
});

void test('a reason of any length fits the trailer: the message is cut to its limit, named', () => {
  const long = outcomeTrailer({ status: PolicyOutcomeStatus.Invalid, message: 'é'.repeat(100_000), problems: [] });
  const text = decodeURIComponent(String(long.get(TRAILER_MESSAGE)[0]));
  assert.ok(String(long.get(TRAILER_MESSAGE)[0]).length <= MAX_MESSAGE_TRAILER_BYTES);
  assert.match(text, /… \(cut at \d+ of 100000 characters\)$/);
});

void test('malformed protobuf bytes get INVALID_ARGUMENT, not a crash', async () => {
  const t = await setup();
  const raw = new Client(t.running.target, insecure(), separateConnection);
  const send = (bytes: Buffer) => new Promise<ServiceError>((resolve, reject) =>
    raw.makeUnaryRequest('/policy.PolicyService/hostPolicy', (b: Buffer) => b, (b: Buffer) => b, bytes, (e, r) => (e ? resolve(e) : reject(new Error(`unexpected reply ${String(r)}`)))));
  for (const bytes of [Buffer.from([0x0a, 0xff]), Buffer.from([0x0a, 0x05, 0x01]), Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]) {
    const e = await send(bytes);
    assert.equal(e.code, status.INVALID_ARGUMENT);
    assert.match(e.details, /malformed protobuf request for \/policy\.PolicyService\/hostPolicy/);
  }
  raw.close();
  assert.equal((await t.send('hostPolicy', host('alive'))).status, PolicyStatus.Applied);
  await t.cleanup();
});

void test('NotEnabled for disabled kinds (network is off by default)', async () => {
  const t = await setup({ hostPolicy: false });
  assert.equal((await t.send('hostPolicy', host('h'))).status, PolicyStatus.NotEnabled);
  assert.equal((await t.send('networkPolicy', { type: 'ADDED', object: { metadata: { name: 'n' } } })).status, PolicyStatus.NotEnabled);
  await t.cleanup();
});

void test('a refused peer gets PERMISSION_DENIED and nothing changes (peer check injected)', async () => {
  const stateDir = await mkdtemp(join(tmpdir(), 'kawin-policy-deny-'));
  const source = new GrpcPolicySource({ stateDir, validate: fakeValidator });
  const { sink, log } = recordingSink();
  await source.start(sink);
  const binding = policyServiceBinding(source, local);
  const handler = binding.implementation.hostPolicy as unknown as (call: unknown, cb: (e: { code: number; details: string } | null) => void) => void;
  const error = await new Promise<{ code: number; details: string } | null>((resolve) =>
    handler({ getPeer: () => '10.1.2.3:45678', request: { policy: Buffer.from(JSON.stringify(host('x'))) } }, resolve));
  assert.equal(error?.code, status.PERMISSION_DENIED);
  assert.match(error!.details, /only from the local machine/);
  assert.equal(log.upserts.length, 0);
  await rm(stateDir, { recursive: true, force: true });
});

// ---- the same, for real, from a network namespace this test creates ----

const ip = (...args: string[]) => spawnSync('ip', args, { encoding: 'utf8' });
const canNetns = process.getuid?.() === 0 && ip('netns', 'list').status === 0;
const fixture = fileURLToPath(new URL('./netns.fixture.ts', import.meta.url));

function inNs(ns: string, ...args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', fixture, ...args], { stdio: ['pipe', 'pipe', 'inherit'] });
}

function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!);
    });
    child.on('exit', (code) => reject(new Error(`fixture exited ${code} before answering`)));
  });
}

void test('a policy RPC from another network namespace is refused; from loopback it is applied', { skip: canNetns ? false : 'needs root and the ip tool to create network namespaces' }, async () => {
  const tag = `kw${process.pid}`;
  const [srvNs, cliNs] = [`${tag}s`, `${tag}c`];
  const stateDir = await mkdtemp(join(tmpdir(), 'kawin-netns-'));
  const setupCmds = [
    ['netns', 'add', srvNs], ['netns', 'add', cliNs],
    ['link', 'add', `${tag}a`, 'type', 'veth', 'peer', 'name', `${tag}b`],
    ['link', 'set', `${tag}a`, 'netns', srvNs], ['link', 'set', `${tag}b`, 'netns', cliNs],
    ['-n', srvNs, 'addr', 'add', '10.213.7.1/30', 'dev', `${tag}a`], ['-n', cliNs, 'addr', 'add', '10.213.7.2/30', 'dev', `${tag}b`],
    ['-n', srvNs, 'link', 'set', `${tag}a`, 'up'], ['-n', cliNs, 'link', 'set', `${tag}b`, 'up'],
    ['-n', srvNs, 'link', 'set', 'lo', 'up'], ['-n', cliNs, 'link', 'set', 'lo', 'up'],
  ];
  let server: ChildProcess | undefined;
  try {
    for (const cmd of setupCmds) {
      const r = ip(...cmd);
      assert.equal(r.status, 0, `ip ${cmd.join(' ')}: ${r.stderr}`);
    }
    // 0.0.0.0 inside the namespace we made: reachable only over our own veth pair.
    server = inNs(srvNs, 'server', '0.0.0.0:0', stateDir);
    const port = Number((await firstLine(server)).replace('PORT ', ''));
    const remote = JSON.parse(await firstLine(inNs(cliNs, 'client', `10.213.7.1:${port}`))) as { code: number; details: string };
    assert.equal(remote.code, status.PERMISSION_DENIED);
    assert.match(remote.details, /10\.213\.7\.2/);
    const loop = JSON.parse(await firstLine(inNs(srvNs, 'client', `127.0.0.1:${port}`))) as { code: number; status: number };
    assert.equal(loop.code, 0);
    assert.equal(loop.status, PolicyStatus.Applied);
  } finally {
    server?.stdin!.end();
    server?.kill();
    ip('netns', 'del', srvNs); // deleting the namespaces removes the veth pair too
    ip('netns', 'del', cliNs);
    await rm(stateDir, { recursive: true, force: true });
  }
});

void test('a unix: address: the socket is only the owner\'s (even under umask 000), its peers are local, a stale socket is replaced', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kawin-unix-'));
  const address = `unix:${join(dir, 'grpc.sock')}`;
  const stateDir = join(dir, 'state');
  const source = new GrpcPolicySource({ stateDir, validate: fakeValidator });
  await source.start(recordingSink().sink);
  const serve = async () => {
    const server = new KawinGrpcServer({ address, shutdownGraceMs: 500 }, [policyServiceBinding(source, peerPolicyFor({ address }))]);
    const previous = process.umask(0);
    try {
      await server.start();
    } finally {
      process.umask(previous);
    }
    return server;
  };
  const first = await serve();
  assert.equal(statSync(join(dir, 'grpc.sock')).mode & 0o777, 0o600);
  const client = new PolicyServiceClient(address, insecure(), separateConnection);
  assert.equal((await callPolicy(client, 'hostPolicy', Buffer.from(JSON.stringify(host('over-unix'))))).status, PolicyStatus.Applied);
  client.close();
  await first.stop();
  // A socket file left by a process that died: nobody listens, so it is replaced.
  spawnSync(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(join(dir, 'grpc.sock'))}, () => process.kill(process.pid, 'SIGKILL'))`]);
  assert.ok(statSync(join(dir, 'grpc.sock')).isSocket(), 'the stale socket is there');
  const second = await serve();
  await second.stop();
  await rm(dir, { recursive: true, force: true });
});
