import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { Alert, LogServiceClient, type Log, type Message, type NonceMessage, type ReplyMessage } from '../../../proto/gen/feeder.js';
import { LogBroker, logServiceBinding, registerLogMetrics } from './index.js';
import { insecure, separateConnection, startTestServer, unary } from '../testing.js';
import { MemoryLogger } from '../../observability/index.js';

const notice = { hostName: 'node-1', clusterName: 'default', now: () => 1_700_000_000_123 };

async function setup(queueSize = 64) {
  const broker = new LogBroker({ queueSize, notice });
  const running = await startTestServer([logServiceBinding(broker)]);
  const client = () => new LogServiceClient(running.target, insecure(), separateConnection);
  return { broker, running, client };
}

function alert(seq: number, pad = 0): Alert {
  return Alert.fromPartial({ Timestamp: 1_700_000_000, UpdatedTime: 'x', PolicyName: `p${seq}`, Type: 'MatchedHostPolicy', HostPID: seq, Data: 'd'.repeat(pad) });
}

function cancel(...streams: ClientReadableStream<unknown>[]): void {
  for (const s of streams) {
    s.on('error', () => undefined); // CANCELLED, expected
    s.cancel();
  }
}

function ended(stream: ClientReadableStream<unknown>): Promise<ServiceError | undefined> {
  return new Promise((resolve) => {
    stream.on('error', (e: ServiceError) => resolve(e));
    stream.on('status', (s: { code: number }) => { if (s.code === status.OK) resolve(undefined); });
  });
}

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

void test('HealthCheck echoes the nonce', async () => {
  const { running, client } = await setup();
  const c = client();
  for (const nonce of [0, 1, -5, 2 ** 31 - 1]) {
    const r = await unary<NonceMessage, ReplyMessage>(c.healthCheck.bind(c), { nonce });
    assert.equal(r.Retval, nonce);
  }
  c.close();
  await running.stop();
});

void test('WatchAlerts accepts all/policy, WatchLogs all/system; other filters end the stream with INVALID_ARGUMENT', async () => {
  const { broker, running, client } = await setup();
  const c = client();
  const bad = [c.watchAlerts({ Filter: 'system' }), c.watchAlerts({ Filter: '' }), c.watchLogs({ Filter: 'policy' })];
  for (const s of bad) {
    const err = await ended(s);
    assert.equal(err?.code, status.INVALID_ARGUMENT);
    assert.match(err?.details ?? '', /unknown filter/);
  }
  const got: Record<string, string[]> = { all: [], policy: [], logs: [], msgs: [] };
  const a1 = c.watchAlerts({ Filter: 'all' });
  const a2 = c.watchAlerts({ Filter: 'policy' });
  const l1 = c.watchLogs({ Filter: 'system' });
  const m1 = c.watchMessages({ Filter: 'anything' });
  a1.on('data', (a: Alert) => got.all!.push(a.PolicyName));
  a2.on('data', (a: Alert) => got.policy!.push(a.PolicyName));
  l1.on('data', (l: Log) => got.logs!.push(l.Type));
  m1.on('data', (m: Message) => got.msgs!.push(m.Message));
  await waitFor(() => broker.subscriberCount('alerts') === 2 && broker.subscriberCount('logs') === 1 && broker.subscriberCount('messages') === 1);
  broker.publishAlert(alert(1));
  broker.publishLog({ ...alert(0), Type: 'HostLog' } as unknown as Log);
  broker.publishMessage({ Timestamp: 1, UpdatedTime: '', ClusterName: '', HostName: '', HostIP: '', Type: 'Message', Level: 'INFO', Message: 'hello' });
  await waitFor(() => got.all!.length === 1 && got.policy!.length === 1 && got.logs!.length === 1 && got.msgs!.length === 1);
  assert.deepEqual(got, { all: ['p1'], policy: ['p1'], logs: ['HostLog'], msgs: ['hello'] });
  cancel(a1, a2, l1, m1);
  await waitFor(() => broker.subscriberCount() === 0);
  c.close();
  await running.stop();
});

void test('many concurrent subscribers each receive every alert in order', async () => {
  const { broker, running, client } = await setup(1000);
  const clients = Array.from({ length: 12 }, () => client());
  const received = clients.map(() => [] as number[]);
  const streams = clients.map((c, i) => {
    const s = c.watchAlerts({ Filter: 'all' });
    s.on('data', (a: Alert) => received[i]!.push(a.HostPID));
    return s;
  });
  await waitFor(() => broker.subscriberCount('alerts') === 12);
  for (let i = 0; i < 500; i++) broker.publishAlert(alert(i));
  await waitFor(() => received.every((r) => r.length === 500));
  const expected = Array.from({ length: 500 }, (_, i) => i);
  for (const r of received) assert.deepEqual(r, expected);
  cancel(...streams);
  clients.forEach((c) => c.close());
  await running.stop();
});

void test('a stalled subscriber does not hold back a fast one; its drop count is exact and reported in-band', async () => {
  const queueSize = 50;
  const { broker, running, client } = await setup(queueSize);
  const registry = new Registry();
  registerLogMetrics(broker, registry);
  const fastClient = client();
  const stalledClient = client();
  const fast: number[] = [];
  const fastStream = fastClient.watchAlerts({ Filter: 'all' });
  fastStream.on('data', (a: Alert) => fast.push(a.HostPID));
  // A stalled reader: takes one message, then stops reading (grpc-js buffers without bound
  // for a stream nobody ever read from, so "stalled" is a reader that stopped).
  const stalled = stalledClient.watchAlerts({ Filter: 'all' });
  const got: number[] = [];
  stalled.once('data', (a: Alert) => {
    got.push(a.HostPID);
    stalled.pause();
  });
  await waitFor(() => broker.subscriberCount('alerts') === 2);
  const subs = [...(broker as unknown as { subscribers: { alerts: Set<{ reader: { dropped: number; sent: number } }> } }).subscribers.alerts];
  const total = 4000;
  const batch = 40; // below the queue size: the fast subscriber never overflows
  for (let i = 0; i < total; i += batch) {
    for (let j = i; j < i + batch; j++) broker.publishAlert(alert(j, 2048));
    await waitFor(() => fast.length === i + batch); // the fast one keeps up although the other never reads
  }
  assert.deepEqual(fast, Array.from({ length: total }, (_, i) => i));
  const stalledOutbox = subs[1]!.reader;
  assert.ok(stalledOutbox.dropped > 0, 'the stalled subscriber must have overflowed');
  assert.equal(subs[0]!.reader.dropped, 0);
  // Now the stalled client reads: it gets what was kept, plus notices that add up exactly.
  let noticed = 0;
  stalled.on('data', (a: Alert) => {
    if (a.Type === 'SystemEvent') {
      assert.equal(a.Operation, 'Dropped');
      noticed += Number(/lost=(\d+)/.exec(a.Data)![1]);
    } else got.push(a.HostPID);
  });
  stalled.resume();
  await waitFor(() => got.length + noticed === total);
  assert.equal(noticed, stalledOutbox.dropped);
  assert.equal(got.length, total - stalledOutbox.dropped);
  assert.ok(got.every((v, i) => i === 0 || v > got[i - 1]!), 'order is kept');
  assert.deepEqual(got.slice(-queueSize), Array.from({ length: queueSize }, (_, i) => total - queueSize + i), 'drop-oldest keeps the newest');
  const metrics = await registry.getSingleMetricAsString('kawin_grpc_messages_dropped_total');
  assert.match(metrics, new RegExp(`stream="alerts"} ${stalledOutbox.dropped}$`, 'm'));
  assert.match(await registry.getSingleMetricAsString('kawin_grpc_subscribers'), /stream="alerts"} 2$/m);
  cancel(fastStream, stalled);
  fastClient.close();
  stalledClient.close();
  await running.stop();
});

void test('stop() ends open streams cleanly and the server shuts down', async () => {
  const { broker, running, client } = await setup();
  const c = client();
  const s = c.watchAlerts({ Filter: 'all' });
  s.on('data', () => undefined);
  await waitFor(() => broker.subscriberCount('alerts') === 1);
  const done = ended(s);
  await running.stop();
  assert.equal(await done, undefined);
  assert.equal(broker.subscriberCount(), 0);
  c.close();
});

void test('subscribers beyond grpc.maxSubscribers are refused with RESOURCE_EXHAUSTED, logged once and counted; a freed place is usable', async () => {
  const logger = new MemoryLogger();
  const broker = new LogBroker({ queueSize: 64, maxSubscribers: 3, notice, logger });
  const registry = new Registry();
  registerLogMetrics(broker, registry);
  const running = await startTestServer([logServiceBinding(broker)]);
  const c = new LogServiceClient(running.target, insecure(), separateConnection);
  const admitted = [c.watchAlerts({ Filter: 'policy' }), c.watchLogs({ Filter: 'all' }), c.watchMessages({ Filter: '' })];
  await waitFor(() => broker.subscriberCount() === 3);
  const over = [c.watchAlerts({ Filter: 'all' }), c.watchAlerts({ Filter: 'all' })];
  for (const s of over) {
    const err = await ended(s);
    assert.equal(err?.code, status.RESOURCE_EXHAUSTED);
    assert.match(err?.details ?? '', /grpc\.maxSubscribers is 3/);
  }
  assert.equal(broker.subscriberCount(), 3);
  assert.equal(logger.records.filter((r) => /refused/.test(r.msg)).length, 1, 'one log line per episode at the cap');
  const refused = (await registry.getSingleMetric('kawin_grpc_subscribers_refused_total')!.get()).values[0]?.value;
  assert.equal(refused, 2);
  cancel(admitted[0]!);
  await waitFor(() => broker.subscriberCount() === 2);
  const next = c.watchAlerts({ Filter: 'policy' });
  await waitFor(() => broker.subscriberCount() === 3);
  cancel(next, admitted[1]!, admitted[2]!);
  c.close();
  await running.stop();
});

void test('what subscribers that never read hold is one shared window, bounded in bytes and accounted', async () => {
  const broker = new LogBroker({ queueSize: 100_000, queueBytes: 64 * 1024, notice });
  const registry = new Registry();
  registerLogMetrics(broker, registry);
  const running = await startTestServer([logServiceBinding(broker)]);
  const c = new LogServiceClient(running.target, insecure(), separateConnection);
  const stalled = [c.watchAlerts({ Filter: 'policy' }), c.watchAlerts({ Filter: 'policy' })]; // no 'data' listener: never read
  await waitFor(() => broker.subscriberCount() === 2);
  for (let i = 0; i < 20_000; i++) {
    broker.publishAlert(alert(i, 200));
    if (i % 500 === 0) await new Promise((r) => setImmediate(r));
  }
  const queued = (await registry.getSingleMetric('kawin_grpc_subscriber_queued_bytes')!.get()).values[0]?.value ?? -1;
  assert.ok(queued > 0 && queued <= 64 * 1024, `${queued} bytes kept for two stalled subscribers: one shared window, not one each`);
  assert.ok(broker.dropped('alerts') > 0, 'the oldest were dropped, counted');
  cancel(...stalled);
  await waitFor(() => broker.subscriberCount() === 0);
  assert.equal(broker.queued.bytes, 0, 'given back when they leave');
  c.close();
  await running.stop();
});
