import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Decision, NTSTATUS } from '../../driver/abi/types.js';
import type { HostEventBatch } from '../../driver/client/index.js';
import { FakeClock } from '../clock/index.js';
import { MemoryLogger } from '../observability/index.js';
import { EventPipeline, type EventPipelineOptions } from './pipeline.js';
import { batch, CollectingSink, hostEvent, fromBatches, lookup } from './test-fixtures.js';
import type { EventSink } from './types.js';
import { publisherSink } from './sinks.js';

function pipeline(over: Partial<EventPipelineOptions> = {}) {
  const sink = new CollectingSink();
  const registry = new Registry();
  const clock = new FakeClock(Date.parse('2026-11-21T10:00:00Z'));
  const logger = new MemoryLogger();
  const warnings = (): string[] => logger.records.filter((r) => r.level === 'warn' || r.level === 'error').map((r) => r.msg);
  const p = new EventPipeline({
    hostName: 'win-node-1', clusterName: 'prod',
    provenance: lookup([{ ruleId: 0x1234n, action: 'Block', origins: [{ kind: 'KubeArmorHostPolicy', policy: 'p', severity: 3, tags: [], message: '' }] }]),
    hostTelemetry: false, allowAlerts: false, sinks: [sink], registry, clock,
    logger,
    ...over,
  });
  return { p, sink, registry, clock, warnings };
}

async function metric(registry: Registry, name: string): Promise<Record<string, number>> {
  const m = registry.getSingleMetric(name);
  assert.ok(m, `metric ${name} exists`);
  const out: Record<string, number> = {};
  for (const v of (await m.get()).values) out[Object.values(v.labels).join(',') || '_'] = v.value;
  return out;
}

const events = (n: number, firstPid: number) =>
  Array.from({ length: n }, (_, i) => hostEvent({ processId: firstPid + i }));

void test('every event of a stream becomes an alert, in order', async () => {
  const { p, sink, registry } = pipeline();
  await p.run(fromBatches([batch(events(3, 100)), batch(events(2, 200))]));
  assert.deepEqual(sink.alerts.map((a) => a.PID), [100, 101, 102, 200, 201]);
  assert.equal(sink.messages.length, 0, 'no loss, no SystemEvent');
  assert.deepEqual(await metric(registry, 'kawin_events_received_total'), { _: 5 });
  assert.deepEqual(await metric(registry, 'kawin_events_alerts_total'), { Block: 5 });
  assert.deepEqual(await metric(registry, 'kawin_events_dropped_total'), { driver: 0, pipeline: 0 });
  assert.deepEqual(p.stats(), { received: 5, alerts: 5, logs: 0, ignored: 0, unsupported: 0, dropped: { driver: 0, pipeline: 0 }, queued: 0 });
});

void test('driver drops and pipeline drops are counted apart, exactly, and announced once', async () => {
  const { p, sink, registry, warnings } = pipeline({ queueSize: 10 });
  // The reader takes all three batches before the builder's first turn: 24 events into
  // a queue of 10 loses the 14 oldest; the driver reported 5 + 2 of its own.
  for (const b of [batch(events(8, 100), 5n), batch(events(8, 200)), batch(events(8, 300), 2n)]) p.accept(b);
  await p.drain();
  const matched = sink.alerts.filter((a) => a.Type !== 'SystemEvent');
  assert.deepEqual(matched.map((a) => a.PID), [206, 207, 300, 301, 302, 303, 304, 305, 306, 307], 'the oldest went first');
  assert.deepEqual(p.stats().dropped, { driver: 7, pipeline: 14 });
  assert.deepEqual(await metric(registry, 'kawin_events_dropped_total'), { driver: 7, pipeline: 14 });
  assert.deepEqual(await metric(registry, 'kawin_events_received_total'), { _: 24 });
  assert.equal(sink.messages.length, 1);
  const m = sink.messages[0]!;
  assert.equal(m.Type, 'SystemEvent');
  assert.equal(m.Level, 'WARN');
  assert.equal(m.HostName, 'win-node-1');
  assert.equal(m.ClusterName, 'prod');
  assert.equal(m.UpdatedTime, '2026-11-21T10:00:00.000000Z');
  assert.equal(m.Message, 'kawin lost 21 events: 7 by the driver (its event ring was full), 14 by the agent pipeline (events.queueSize was full)');
  assert.deepEqual(warnings(), [m.Message], 'and logged');
  // The alert stream (what `karmor logs` watches) hears of it too.
  const lossAlerts = sink.alerts.filter((a) => a.Type === 'SystemEvent');
  assert.equal(lossAlerts.length, 1);
  assert.equal(lossAlerts[0]!.Operation, 'Dropped');
  assert.equal(lossAlerts[0]!.Message, m.Message);
  assert.equal(lossAlerts[0]!.Data, 'driver=7 pipeline=14');
});

void test('loss announcements are coalesced to one per interval', async () => {
  const { p, sink, clock } = pipeline({ dropReportIntervalMs: 1000 });
  p.accept(batch(events(1, 1), 3n));
  await p.drain();
  assert.equal(sink.messages.length, 1, 'the first loss is told at once');
  p.accept(batch(events(1, 2), 4n));
  await p.drain();
  p.accept(batch(events(1, 3), 1n));
  await p.drain();
  assert.equal(sink.messages.length, 1, 'later losses wait for the interval');
  clock.advance(1000);
  assert.equal(sink.messages.length, 2);
  assert.equal(sink.messages[1]!.Message, 'kawin lost 5 events: 5 by the driver (its event ring was full)');
  assert.equal(sink.messages[1]!.Timestamp, Date.parse('2026-11-21T10:00:01Z') / 1000);
});

void test('telemetry logs, ignored and unsupported events are counted', async () => {
  const { p, sink, registry } = pipeline({ hostTelemetry: true });
  const unmatched = hostEvent({ decision: Decision.Allow, ruleId: 0n, status: NTSTATUS.success });
  await p.run(fromBatches([batch([unmatched, hostEvent({ type: 4 })])]));
  assert.equal(sink.logs.length, 1);
  assert.equal(sink.logs[0]!.Type, 'HostLog');
  assert.deepEqual(await metric(registry, 'kawin_events_ignored_total'), { unsupported_type: 1 });
  const quiet = pipeline({ hostTelemetry: false });
  await quiet.p.run(fromBatches([batch([unmatched])]));
  assert.deepEqual(await metric(quiet.registry, 'kawin_events_ignored_total'), { not_reported: 1 });
});

void test('a failing sink is counted and does not stop the others or the stream', async () => {
  const good = new CollectingSink();
  const bad: EventSink = { alert() { throw new Error('boom'); }, log() {}, message() {} };
  const { p, registry, warnings } = pipeline({ sinks: [good, bad] });
  await p.run(fromBatches([batch(events(3, 1))]));
  assert.equal(good.alerts.length, 3);
  assert.deepEqual(await metric(registry, 'kawin_events_sink_errors_total'), { _: 3 });
  assert.equal(warnings().length, 3);
});

void test('abort ends run() even while the driver stream is blocked, after building what was queued', async () => {
  const { p, sink } = pipeline();
  const ac = new AbortController();
  let returned = false;
  const stuck: AsyncIterable<ReturnType<typeof batch>> = {
    [Symbol.asyncIterator]() {
      let first = true;
      return {
        next: () => {
          if (first) { first = false; return Promise.resolve({ done: false as const, value: batch(events(2, 1)) }); }
          return new Promise(() => undefined); // a reader blocked in FilterGetMessage
        },
        return: () => { returned = true; return Promise.resolve({ done: true as const, value: undefined }); },
      };
    },
  };
  const running = p.run(stuck, ac.signal);
  await new Promise((r) => setImmediate(r));
  ac.abort();
  await running;
  assert.equal(sink.alerts.length, 2);
  assert.equal(returned, true, 'the stream is told to stop');
});

void test('records nobody wants are counted but not built', async () => {
  let listening = false;
  const published: string[] = [];
  const broker = {
    publishAlert: (a: { PolicyName: string }) => published.push(a.PolicyName), publishLog() {}, publishMessage() {},
    hasSubscribers: () => listening,
  };
  const { p, registry } = pipeline({ sinks: [publisherSink(broker)] });
  p.accept(batch(events(3, 1)));
  await p.drain();
  assert.deepEqual(published, [], 'no subscriber: nothing built or published');
  listening = true;
  p.accept(batch(events(2, 10)));
  await p.drain();
  assert.deepEqual(published, ['p', 'p']);
  assert.deepEqual(await metric(registry, 'kawin_events_alerts_total'), { Block: 5 }, 'all counted');
});

void test('a queue size that is not a positive integer is refused with its name', () => {
  assert.throws(() => pipeline({ queueSize: 0 }), /events\.queueSize must be a positive integer, got 0/);
});

/** A full garbage collection from inside a test (node:test runs without --expose-gc). */
function collectGarbage(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

void test('batches already built are not retained while the stream runs on (no memory kept per event)', async () => {
  const { p, sink } = pipeline();
  const ac = new AbortController(); // a live agent's signal: never aborted while events flow
  const refs: WeakRef<object>[] = [];
  let release!: () => void;
  const paused = new Promise<void>((r) => { release = r; });
  async function* stream(): AsyncGenerator<HostEventBatch> {
    for (let i = 0; i < 200; i++) {
      const b = batch(events(5, 1000 + i * 5));
      refs.push(new WeakRef(b.events[0]!));
      yield b;
      await new Promise((r) => setImmediate(r)); // the builder's turn, as with a real driver
    }
    await paused; // the stream stays open, as the driver's does between events
  }
  const running = p.run(stream(), ac.signal);
  while (p.stats().received < 1000 || p.stats().queued > 0) await new Promise((r) => setImmediate(r));
  assert.equal(sink.alerts.length, 1000);
  sink.alerts.length = 0;
  await new Promise((r) => setTimeout(r, 0));
  collectGarbage();
  const kept = refs.filter((r) => r.deref() !== undefined).length;
  assert.ok(kept <= 2, `${kept} of 200 delivered batches are still reachable`);
  release();
  await running;
});

void test('a stream with batches ready at once does not starve the builder: it builds between reads', async () => {
  const { p, sink } = pipeline({ queueSize: 10 });
  await p.run(fromBatches([batch(events(8, 100)), batch(events(8, 200)), batch(events(8, 300))]));
  assert.equal(sink.alerts.length, 24);
  assert.deepEqual(p.stats().dropped, { driver: 0, pipeline: 0 });
});

void test('a builder turn ends after turnBudgetMs, so a slow sink cannot stall the event loop for a whole chunk', async () => {
  const perTurn: number[] = [];
  let inTurn = 0;
  const slow: EventSink = {
    alert: () => {
      const until = performance.now() + 0.2;
      while (performance.now() < until) { /* a sink that costs 0.2 ms per alert */ }
      inTurn++;
    },
    log: () => undefined, message: () => undefined,
  };
  const { p } = pipeline({ sinks: [slow], chunkSize: 2048, turnBudgetMs: 5 });
  p.accept(batch(events(1000, 1)));
  while (p.stats().queued > 0) {
    await new Promise((r) => setImmediate(r));
    if (inTurn) perTurn.push(inTurn);
    inTurn = 0;
  }
  assert.equal(perTurn.reduce((a, b) => a + b, 0), 1000);
  assert.ok(Math.max(...perTurn) <= 64, `at most one clock period past the budget per turn, got ${Math.max(...perTurn)}`);
});
