import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alert, Log } from '../../../proto/gen/feeder.js';
import { KawinGrpcServer } from '../../grpc/server.js';
import { LogBroker, logServiceBinding } from '../../grpc/logs/index.js';
import { UsageError, type CliIO } from '../types.js';
import { selectStreams, watchLogs, type WatchOptions } from './logs.js';

const notice = { hostName: 'win-node-1', clusterName: 'prod' };

async function agent(port = 0) {
  const broker = new LogBroker({ queueSize: 64, notice });
  const server = new KawinGrpcServer({ address: `127.0.0.1:${port}`, shutdownGraceMs: 500 }, [logServiceBinding(broker)]);
  const bound = await server.start();
  return { broker, server, port: bound };
}

function capture(): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, isTTY: false, stdout: (t) => out.push(t), stderr: (t) => err.push(t) };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

const blocked = Alert.fromPartial({
  Timestamp: 1795255200, UpdatedTime: '2026-11-21T10:00:00.123456Z', HostName: 'win-node-1', Type: 'MatchedHostPolicy',
  PolicyName: 'block-secrets', Severity: '5', Action: 'Block', Result: 'Permission denied', Operation: 'File',
  Source: 'C:\\Windows\\System32\\notepad.exe', Resource: 'C:\\secret\\key.txt', HostPID: 4321,
});

void test('prints live alerts readably, one line each, and stops cleanly on abort', async () => {
  const a = await agent();
  const io = capture();
  const ac = new AbortController();
  const done = watchLogs({ address: `127.0.0.1:${a.port}`, streams: selectStreams({}), json: false }, io, ac.signal);
  await until(() => a.broker.subscriberCount('alerts') === 1);
  a.broker.publishAlert(blocked);
  await until(() => io.out.length === 1);
  assert.equal(io.out[0], '2026-11-21T10:00:00.123456Z Block Permission denied block-secrets File C:\\Windows\\System32\\notepad.exe → C:\\secret\\key.txt');
  ac.abort();
  assert.equal(await done, 0);
  assert.deepEqual(io.err, [`kawin logs: connected to 127.0.0.1:${a.port}`]);
  await until(() => a.broker.subscriberCount() === 0);
  await a.server.stop();
});

void test('--json prints JSON lines with KubeArmor field names, alerts and logs together', async () => {
  const a = await agent();
  const io = capture();
  const ac = new AbortController();
  const done = watchLogs({ address: `127.0.0.1:${a.port}`, streams: selectStreams({ filter: 'all' }), json: true }, io, ac.signal);
  await until(() => a.broker.subscriberCount('alerts') === 1 && a.broker.subscriberCount('logs') === 1);
  a.broker.publishAlert(blocked);
  a.broker.publishLog(Log.fromPartial({ Timestamp: 1, UpdatedTime: 't', Type: 'HostLog', Operation: 'Process', Result: 'Passed' }));
  await until(() => io.out.length === 2);
  const parsed = io.out.map((l) => JSON.parse(l) as Record<string, unknown>).sort((x, y) => String(x.Type).localeCompare(String(y.Type)));
  assert.deepEqual(parsed[0], { Timestamp: 1, UpdatedTime: 't', Type: 'HostLog', Operation: 'Process', Result: 'Passed' });
  assert.equal(parsed[1]!.PolicyName, 'block-secrets');
  assert.equal(parsed[1]!.Resource, 'C:\\secret\\key.txt');
  assert.equal(parsed[1]!.HostPID, 4321);
  ac.abort();
  assert.equal(await done, 0);
  await a.server.stop();
});

void test('reconnects when the agent restarts', async () => {
  const first = await agent();
  const io = capture();
  const ac = new AbortController();
  const options: WatchOptions = { address: `127.0.0.1:${first.port}`, streams: selectStreams({}), json: false, retryMs: { first: 20, max: 100 } };
  const done = watchLogs(options, io, ac.signal);
  await until(() => first.broker.subscriberCount('alerts') === 1);
  await first.server.stop();
  await until(() => io.err.some((l) => l.includes('reconnecting')));
  const second = await agent(first.port);
  await until(() => second.broker.subscriberCount('alerts') === 1);
  second.broker.publishAlert(blocked);
  await until(() => io.out.length === 1);
  assert.match(io.out[0]!, /block-secrets/);
  assert.ok(io.err.includes(`kawin logs: reconnected to 127.0.0.1:${first.port}`), io.err.join('\n'));
  ac.abort();
  assert.equal(await done, 0);
  await second.server.stop();
});

void test('a stream the agent refuses ends with exit 1 and the reason', async () => {
  const a = await agent();
  const io = capture();
  const code = await watchLogs({ address: `127.0.0.1:${a.port}`, streams: [{ stream: 'alerts', filter: 'system' }], json: false }, io, new AbortController().signal);
  assert.equal(code, 1);
  assert.match(io.err.at(-1)!, /refused the stream: unknown filter 'system'/);
  await a.server.stop();
});

void test('stream selection follows karmor --logFilter and the stream flags', () => {
  assert.deepEqual(selectStreams({}), [{ stream: 'alerts', filter: 'policy' }]);
  assert.deepEqual(selectStreams({ filter: 'system' }), [{ stream: 'logs', filter: 'system' }]);
  assert.deepEqual(selectStreams({ filter: 'all' }), [{ stream: 'alerts', filter: 'all' }, { stream: 'logs', filter: 'all' }]);
  assert.deepEqual(selectStreams({ logs: true }), [{ stream: 'logs', filter: 'system' }]);
  assert.deepEqual(selectStreams({ alerts: true, logs: true }), [{ stream: 'alerts', filter: 'policy' }, { stream: 'logs', filter: 'system' }]);
  assert.deepEqual(selectStreams({ messages: true }), [{ stream: 'messages', filter: 'policy' }]);
  assert.throws(() => selectStreams({ filter: 'everything' }), UsageError);
  assert.throws(() => selectStreams({ alerts: true, filter: 'system' }), /--alerts takes --filter all or policy/);
});
