/**
 * Issue 9 finding 9, scaled to stay fast: many WatchAlerts streams that never read, plus
 * a steady event load, against a real agent on the emulator. The cap refuses the surplus,
 * the stalled ones cost a bounded queue each, and health, the event loop and the driver
 * keep going. (Full size, 10,000 streams: `npm run bench:stalled`.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { LogServiceClient } from '../../../proto/gen/feeder.js';
import { hostPolicy, startHarness } from '../../../test/agent-harness.js';

const STREAMS = 400;
const CAP = 40;
const RATE = 5000;
const SECONDS = 2;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

void test('stalled WatchAlerts streams beyond the cap are refused; health, the event loop and the driver are unaffected', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('audit.yaml', hostPolicy('audit-data', `  action: Audit
  file:
    matchDirectories:
      - dir: C:\\\\data\\\\
        recursive: true
`));
  const runtime = await h.start({
    metrics: { enabled: true, address: '127.0.0.1:0' },
    grpc: { address: '127.0.0.1:0', maxSubscribers: CAP, subscriberQueueBytes: 65536 },
    outputs: { stdout: { enabled: false } },
  });
  await h.until((rules) => rules.length === 1, 'the audit rule');
  const target = runtime.grpcAddress!;
  const clients = Array.from({ length: 8 }, (_, i) => new LogServiceClient(target, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'test.channel': i }));
  const refused: number[] = [];
  const streams: ClientReadableStream<unknown>[] = [];
  for (let i = 0; i < STREAMS; i++) {
    const s = clients[i % clients.length]!.watchAlerts({ Filter: 'policy' }); // no 'data' listener: never reads
    s.on('error', (e: { code: number }) => refused.push(e.code));
    streams.push(s);
  }
  // Read from the agent's metrics, as an operator would.
  const gauge = async (name: string): Promise<number> => {
    const values = (await runtime.agent.metrics.registry.getSingleMetric(name)!.get()).values;
    return values.reduce((n, v) => n + v.value, 0);
  };
  const deadline = Date.now() + 20_000;
  while ((await gauge('kawin_grpc_subscribers')) + refused.length < STREAMS && Date.now() < deadline) await sleep(20);
  assert.equal(await gauge('kawin_grpc_subscribers'), CAP);
  assert.equal(refused.length, STREAMS - CAP);

  const lag = monitorEventLoopDelay({ resolution: 10 });
  lag.enable();
  const health: number[] = [];
  let loading = true;
  const probing = (async () => {
    while (loading) {
      const t0 = performance.now();
      const r = await fetch(`${runtime.http!.url}/healthz`);
      assert.equal(r.status, 200);
      await r.text();
      health.push(performance.now() - t0);
      await sleep(50);
    }
  })();
  const before = runtime.agent.eventPipeline.stats();
  await h.emulator.machine.generateLoad(RATE * SECONDS, RATE, true);
  while (runtime.agent.eventPipeline.stats().received + runtime.agent.eventPipeline.stats().dropped.driver - before.received - before.dropped.driver < RATE * SECONDS) await sleep(20);
  loading = false;
  await probing;
  lag.disable();
  const after = runtime.agent.eventPipeline.stats();
  assert.equal(after.dropped.driver - before.dropped.driver, 0, 'the driver lost nothing');
  assert.equal(after.alerts - before.alerts, RATE * SECONDS, 'every event became an alert');
  const queued = await gauge('kawin_grpc_subscriber_queued_bytes');
  assert.ok(queued <= 65536, `${queued} bytes kept for ${CAP} stalled subscribers (one shared window)`);
  assert.equal(await gauge('kawin_grpc_subscribers_refused_total'), STREAMS - CAP);
  // Generous bounds (the machine is shared): the finding was 16 s health timeouts and 8 s of lag.
  assert.ok(Math.max(...health) < 1000, `slowest /healthz ${Math.max(...health).toFixed(0)} ms`);
  assert.ok(lag.max / 1e6 < 1000, `event-loop delay max ${(lag.max / 1e6).toFixed(0)} ms`);
  for (const s of streams) { s.on('error', () => undefined); s.cancel(); }
  for (const c of clients) c.close();
});
