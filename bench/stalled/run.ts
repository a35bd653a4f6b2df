/**
 * bench:stalled — issue 9 finding 9 at full size: 10,000 WatchAlerts streams that never
 * read, plus 5,000 events/s, against `kawin agent` as its own process on the emulator
 * (with the load policies of bench:events). Measured from outside: /healthz latency
 * (every 100 ms), the agent's event-loop delay over the load (its /metrics, from
 * monitorEventLoopDelay), events lost by the driver, subscriptions refused, bytes queued
 * for stalled subscribers, RSS. The same load without the streams is the baseline.
 *
 *   npm run bench:stalled [-- --quick]     (writes bench/results/stalled.json from a full run)
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startEmulator } from '../../test/emulator.js';
import { LOAD_POLICIES } from '../events/load-policies.js';
import { startSoakAgent } from '../soak/agent.js';

const quick = process.argv.includes('--quick');
const STREAMS = quick ? 1000 : 10_000;
const CONNECTIONS = quick ? 10 : 100;
const RATE = 5000;
const SECONDS = quick ? 5 : 30;
const GOALS = { healthzMaxMs: 250, healthzP99Ms: 100, eventLoopMaxMs: 100, driverDropped: 0 };

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] ?? Number.NaN;

async function scenario(streams: number) {
  const emu = await startEmulator(undefined, { flavor: 'windows', drives: { 'C:': '\\Device\\HarddiskVolume3' } });
  const agent = await startSoakAgent(emu);
  try {
    await agent.waitForRules(LOAD_POLICIES);
    let clients: ReturnType<typeof fork> | undefined;
    let errors: Record<string, number> = {};
    if (streams > 0) {
      clients = fork(new URL('./streams.ts', import.meta.url).pathname, [agent.grpcTarget, String(streams), String(CONNECTIONS)], { execArgv: ['--import', 'tsx'] });
      await once(clients, 'message');
      // Every stream admitted or refused.
      for (let settled = 0; settled < 120; settled++) {
        await sleep(500);
        clients.send('report');
        errors = ((await once(clients, 'message')) as [{ errors: Record<string, number> }])[0].errors;
        const admitted = agent.metricValue(await agent.metrics(), 'kawin_grpc_subscribers', '{stream="alerts"}');
        if (admitted + Object.values(errors).reduce((a, b) => a + b, 0) >= streams) break;
      }
    }
    const text0 = await agent.metrics(); // resets the agent's event-loop histogram
    const drops0 = agent.metricValue(text0, 'kawin_events_dropped_total', '{stage="driver"}') || 0;
    const health: number[] = [];
    let loading = true;
    const probing = (async () => {
      while (loading) {
        const t0 = performance.now();
        const r = await fetch(`${agent.metricsUrl}/healthz`, { signal: AbortSignal.timeout(30_000) }).catch(() => undefined);
        await r?.text();
        health.push(r?.ok ? performance.now() - t0 : 30_000);
        await sleep(100);
      }
    })();
    await emu.machine.generateLoad(RATE * SECONDS, RATE, true);
    await sleep(1000);
    loading = false;
    await probing;
    const text = await agent.metrics();
    const result = {
      streams,
      admitted: agent.metricValue(text, 'kawin_grpc_subscribers', '{stream="alerts"}'),
      refused: agent.metricValue(text, 'kawin_grpc_subscribers_refused_total') || 0,
      clientErrors: errors,
      healthzMaxMs: +Math.max(...health).toFixed(1), healthzP99Ms: +pct(health, 0.99).toFixed(1),
      eventLoopMaxMs: +(agent.metricValue(text, 'kawin_nodejs_eventloop_lag_max_seconds') * 1000).toFixed(1),
      eventLoopP99Ms: +(agent.metricValue(text, 'kawin_nodejs_eventloop_lag_p99_seconds') * 1000).toFixed(1),
      driverDropped: (agent.metricValue(text, 'kawin_events_dropped_total', '{stage="driver"}') || 0) - drops0,
      subscriberQueuedBytes: agent.metricValue(text, 'kawin_grpc_subscriber_queued_bytes'),
      rssMB: +agent.rssMB().toFixed(1),
    };
    if (clients) {
      clients.send('exit');
      await once(clients, 'exit');
    }
    return result;
  } finally {
    await agent.stop();
    await emu.stop();
  }
}

function show(label: string, r: Awaited<ReturnType<typeof scenario>>): void {
  console.log(`${label}: ${r.admitted} admitted, ${r.refused} refused (client errors ${JSON.stringify(r.clientErrors)}), queued ${r.subscriberQueuedBytes} bytes, RSS ${r.rssMB} MB`);
  console.log(`  /healthz max ${r.healthzMaxMs} ms (goal < ${GOALS.healthzMaxMs}), p99 ${r.healthzP99Ms} ms (goal < ${GOALS.healthzP99Ms})`);
  console.log(`  event-loop delay max ${r.eventLoopMaxMs} ms (goal < ${GOALS.eventLoopMaxMs}), p99 ${r.eventLoopP99Ms} ms`);
  console.log(`  driver dropped ${r.driverDropped} (goal ${GOALS.driverDropped})`);
}

console.log(`bench:stalled${quick ? ' (quick)' : ''}: ${STREAMS} non-reading WatchAlerts streams over ${CONNECTIONS} connections, ${RATE} ev/s for ${SECONDS} s; load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
const baseline = await scenario(0);
show('baseline, no streams', baseline);
const stalled = await scenario(STREAMS);
show(`${STREAMS} stalled streams`, stalled);
// The same figures without the streams, measured in the same run: what the machine's own load contributes.
const ratios = {
  healthzP99VsBaseline: +(stalled.healthzP99Ms / baseline.healthzP99Ms).toFixed(2),
  eventLoopP99VsBaseline: +(stalled.eventLoopP99Ms / baseline.eventLoopP99Ms).toFixed(2),
};
console.log(`stalled / baseline: /healthz p99 ×${ratios.healthzP99VsBaseline}, event-loop p99 ×${ratios.eventLoopP99VsBaseline}`);
const met = stalled.healthzMaxMs < GOALS.healthzMaxMs && stalled.healthzP99Ms < GOALS.healthzP99Ms && stalled.eventLoopMaxMs < GOALS.eventLoopMaxMs && stalled.driverDropped === 0;
console.log(`goals ${met ? 'MET' : 'MISSED'}; load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
if (!quick) {
  const out = new URL('../results/', import.meta.url).pathname;
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}stalled.json`, `${JSON.stringify({ bench: 'stalled', date: new Date().toISOString(), node: process.version, rate: RATE, seconds: SECONDS, goals: GOALS, baseline, stalled, ratios, met, loadAverage: loadavg() }, null, 2)}\n`);
  console.log('wrote bench/results/stalled.json');
}
