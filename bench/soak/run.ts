/**
 * bench:soak — the agent's memory under a steady event load. A real agent process
 * (`kawin agent`) on an emulated driver, the 16 load policies in its policy directory,
 * one gRPC WatchAlerts subscriber (a real grpc-js client in a child process), and the
 * emulator's load generator at a steady rate naming the policies' rules. The agent's RSS
 * (/proc/<pid>/status) and V8 heap (its /metrics) are sampled; after the warm-up the
 * Theil–Sen slope (bench/soak/slope.ts) must be flat.
 *
 *   npm run bench:soak                  one hour (writes bench/results/soak.json)
 *   npm run bench:soak -- --minutes 10  a shorter run (writes soak.json, marked with its length)
 *   npm run bench:soak -- --quick       one minute, writes nothing
 */
import { writeFileSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { startEmulator } from '../../test/emulator.js';
import { LOAD_POLICIES } from '../events/load-policies.js';
import { Subscribers } from '../events/subscribers.js';
import { startSoakAgent } from './agent.js';
import { slopePerTenMinutes, type Sample } from './slope.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const minutesArg = argv.includes('--minutes') ? Number(argv[argv.indexOf('--minutes') + 1]) : undefined;
if (minutesArg !== undefined && !(minutesArg > 0)) throw new Error('--minutes takes a positive number');
const SECONDS = quick ? 60 : Math.round((minutesArg ?? 60) * 60);
const RATE = Number(process.env.SOAK_RATE ?? 5000);
/**
 * Samples before this are warm-up (JIT, caches, queues reaching their size, and the first
 * GC cycles: RSS dips and recovers over the first minutes): the first sixth of the run,
 * and at least 5 minutes (a third for --quick).
 */
const WARMUP_SECONDS = quick ? SECONDS / 3 : Math.max(SECONDS / 6, 300);
const SAMPLE_MS = quick ? 2000 : 10_000;
/** The goal: the RSS slope after warm-up, MB per 10 minutes. */
const GOAL_MB_PER_10_MIN = 1;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const emu = await startEmulator(undefined, { flavor: 'windows', drives: { 'C:': '\\Device\\HarddiskVolume3' } });
  const agent = await startSoakAgent(emu);
  let subs: Subscribers | undefined;
  try {
    await agent.waitForRules(LOAD_POLICIES);
    subs = await Subscribers.start(agent.grpcTarget, 1);
    console.log(`bench:soak${quick ? ' (quick)' : ''}: ${SECONDS} s at ${RATE} ev/s, 1 subscriber, agent pid ${agent.pid}; load ${loadAverage()}`);
    const count = RATE * SECONDS;
    const load = emu.machine.generateLoad(count, RATE, true);
    const samples: Sample[] = [];
    const start = performance.now();
    let done = false;
    void load.finally(() => { done = true; });
    while (!done) {
      const t = (performance.now() - start) / 1000;
      const s = { seconds: +t.toFixed(1), rssMB: agent.rssMB(), heapMB: await agent.heapMB() };
      samples.push(s);
      if (samples.length % (quick ? 5 : 6) === 1) console.log(`  ${s.seconds.toFixed(0).padStart(5)} s  RSS ${s.rssMB.toFixed(1)} MB  heap ${s.heapMB.toFixed(1)} MB`);
      await sleep(SAMPLE_MS);
    }
    await load;
    const delivered = await subs.settle(count);
    const received = delivered.received[0] ?? 0;
    const counters = await agent.counters();
    const after = samples.filter((s) => s.seconds >= WARMUP_SECONDS);
    const rssSlope = slopePerTenMinutes(after, 'rssMB');
    const heapSlope = slopePerTenMinutes(after, 'heapMB');
    const flat = rssSlope < GOAL_MB_PER_10_MIN;
    console.log(`RSS slope after warm-up: ${rssSlope.toFixed(2)} MB per 10 min (goal: < ${GOAL_MB_PER_10_MIN}, flat) ${flat ? 'MET' : 'MISSED'}`);
    console.log(`V8 heap slope after warm-up: ${heapSlope.toFixed(2)} MB per 10 min (goal: < ${GOAL_MB_PER_10_MIN})`);
    console.log(`events: ${count} generated, ${received} delivered to the subscriber (goal: all), ` +
      `${counters.unknownRules} counted as unknown rule (goal: 0), drops ${JSON.stringify(counters.dropped)} (goal: none)`);
    console.log(`load average at the end: ${loadAverage()}`);
    if (quick) return;
    const result = {
      bench: 'soak', date: new Date().toISOString(), node: process.version, seconds: SECONDS, full: SECONDS >= 3600, rate: RATE,
      warmupSeconds: Math.round(WARMUP_SECONDS), goal: { rssSlopeMBPer10Min: `< ${GOAL_MB_PER_10_MIN}` },
      rssSlopeMBPer10Min: +rssSlope.toFixed(3), heapSlopeMBPer10Min: +heapSlope.toFixed(3), flat,
      generated: count, delivered: received, unknownRules: counters.unknownRules, dropped: counters.dropped,
      loadAverage: loadAverage(), samples,
    };
    const out = new URL('../results/', import.meta.url).pathname;
    mkdirSync(out, { recursive: true });
    writeFileSync(`${out}soak.json`, `${JSON.stringify(result, null, 2)}\n`);
    console.log('wrote bench/results/soak.json');
  } finally {
    await subs?.stop();
    await agent.stop();
    await emu.stop();
  }
}

function loadAverage(): string {
  return loadavg().map((x) => x.toFixed(2)).join(' ');
}

await main();
