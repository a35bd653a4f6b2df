/**
 * The agent side of bench:reconcile: a process that runs kawin's agent runtime as users
 * run it (compiled into dist/ by the bench, with the compiled worker threads) and answers
 * the harness over the IPC channel. It measures itself: wall and CPU time (every thread of
 * the process), the main thread's stalls (perf_hooks.monitorEventLoopDelay, max and p99),
 * and its resident set size. Nothing else runs in this process, so its RSS is the agent's.
 */
import { join } from 'node:path';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { parseConfig } from '../../controller/config/index.js';
import { createLogger } from '../../controller/observability/index.js';
import { startAgentRuntime, type AgentRuntime } from '../../controller/agent/runtime.js';
import { ensurePrivateDir } from '../../controller/statedir/index.js';

/** What the harness asks. */
export type AgentCommand =
  | { op: 'start'; config: string }
  | { op: 'stop' }
  | { op: 'idle' }
  | { op: 'resync' }
  | { op: 'begin' }
  | { op: 'end' }
  | { op: 'counts' }
  /** A heap snapshot of the main thread into `dir` (for finding what holds memory). */
  | { op: 'heap'; dir: string }
  /** Where the resident memory is: V8's spaces, external buffers, and /proc's split of RSS. */
  | { op: 'memory' }
  | { op: 'exit' };

export interface Stalls { maxMs: number; p99Ms: number }

/** A phase's figures, from `begin` to `end`. */
export interface PhaseFigures { ms: number; cpuMs: number; stalls: Stalls; rssMb: number; heapUsedMb: number; externalMb: number }

const r1 = (x: number): number => Math.round(x * 10) / 10;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

let runtime: AgentRuntime | undefined;
let phase: { h: IntervalHistogram; cpu: NodeJS.CpuUsage; t0: number } | undefined;

async function firstApply(): Promise<number> {
  const t0 = performance.now();
  while (!runtime!.view.reconcile.firstApplyDone) await sleep(1);
  return performance.now() - t0;
}

async function endPhase(): Promise<PhaseFigures> {
  const p = phase!;
  // A stall at the very end shows only as the delay of the next sample.
  await sleep(20);
  p.h.disable();
  const ms = performance.now() - p.t0;
  const used = process.cpuUsage(p.cpu);
  const memory = process.memoryUsage();
  phase = undefined;
  return {
    ms: r1(ms), cpuMs: r1((used.user + used.system) / 1000),
    stalls: { maxMs: r1(p.h.max / 1e6), p99Ms: r1(p.h.percentile(99) / 1e6) },
    rssMb: r1(memory.rss / 2 ** 20), heapUsedMb: r1(memory.heapUsed / 2 ** 20), externalMb: r1((memory.external + memory.arrayBuffers) / 2 ** 20),
  };
}

async function handle(command: AgentCommand): Promise<unknown> {
  switch (command.op) {
    case 'begin': {
      // 1 ms resolution, as bench:driver and bench:events. A sample is the time between
      // two of the histogram's timer turns, so it includes up to one interval on top of
      // the stall itself: at 10 ms, a 30 ms stall read as up to 40 and an idle loop as 12.
      const h = monitorEventLoopDelay({ resolution: 1 });
      h.enable();
      phase = { h, cpu: process.cpuUsage(), t0: performance.now() };
      return {};
    }
    case 'end': return endPhase();
    case 'start': {
      const config = parseConfig(command.config);
      // The agent's own logger, as a user runs it (warnings and errors reach stderr).
      const logger = createLogger({ level: config.logging.level, format: 'text', stream: process.stderr });
      // As `kawin agent` starts (controller/cli/commands/agent.ts): the state directory made private, then the runtime.
      await ensurePrivateDir(config.stateDir);
      runtime = await startAgentRuntime({ config, logger, watchConfig: false });
      await firstApply();
      return {};
    }
    case 'stop': await runtime?.stop(); runtime = undefined; return {};
    case 'idle': await runtime!.agent.whenIdle(); return {};
    case 'resync': runtime!.agent.resyncNow(); await runtime!.agent.whenIdle(); return {};
    case 'counts': return { ...runtime!.agent.parseCounts };
    case 'memory': return memoryBreakdown();
    case 'heap': return { file: writeHeapSnapshot(join(command.dir, `agent-${Date.now()}.heapsnapshot`)) };
    case 'exit': await runtime?.stop(); setImmediate(() => process.exit(0)); return {};
  }
}

function memoryBreakdown(): Record<string, number> {
  const mb = (n: number): number => r1(n / 2 ** 20);
  const out: Record<string, number> = {};
  for (const s of getHeapSpaceStatistics()) out[`v8.${s.space_name}`] = mb(s.space_size);
  const m = process.memoryUsage();
  Object.assign(out, { rss: mb(m.rss), heapTotal: mb(m.heapTotal), heapUsed: mb(m.heapUsed), external: mb(m.external), arrayBuffers: mb(m.arrayBuffers) });
  try {
    for (const line of readFileSync('/proc/self/status', 'utf8').split('\n')) {
      const [key, value] = line.split(':');
      if (key && /^Rss(Anon|File|Shmem)$/.test(key)) out[key] = r1(parseInt(value!, 10) / 1024);
    }
  } catch { /* not Linux */ }
  return out;
}

process.on('message', (command: AgentCommand) => {
  handle(command).then(
    (reply) => process.send!({ ok: true, reply }),
    (error: unknown) => process.send!({ ok: false, error: (error as Error).stack ?? String(error) }),
  );
});
process.send!({ ok: true, reply: 'ready' });
// `--stall-log` (run.ts): every gap over 12 ms between two turns of a 1 ms timer, as
// `STALL <from> <to>` on stderr, in µs of the monotonic clock that --cpu-prof's profiles
// use, to find what ran in a stall.
if (process.env.KAWIN_BENCH_STALL_LOG) {
  let last = process.hrtime.bigint();
  setInterval(() => {
    const now = process.hrtime.bigint();
    if (now - last > 12_000_000n) process.stderr.write(`STALL ${last / 1000n} ${now / 1000n}\n`);
    last = now;
  }, 1).unref();
}
