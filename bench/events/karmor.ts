/**
 * The real `karmor logs` (Go, test/tools/karmor) as the one subscriber: what the client
 * that bench:events' grpc-js subscriber stands for costs per event, and whether the
 * agent keeps up with it. karmor prints each alert as JSON (to /dev/null here) and
 * exits after `--limit` events, so a step is sustained when it exits within the step's
 * time and nothing was dropped for it. Its CPU is read from /proc while it runs (every
 * POLL_MS: the last reading before it exits stands for the whole, at most POLL_MS short).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toolBinary } from '../../test/tools/index.js';
import type { EmulatorFixture } from '../../test/emulator.js';
import { budgetMicros, cpuBetween, sampleProcess, watchCpu, type ProcessSample } from './cpu.js';
import { daemonPid, type Agent, type SweepPlan } from './agents.js';
import { sleep } from './subscribers.js';
import { karmorEnv } from '../../test/karmor/env.js';

const POLL_MS = 50;
/** As for the grpc-js subscriber (agents.ts): delivered at (nearly) the offered rate. */
const SUSTAINED_SHARE = 0.9;
/** Time beyond the step's own for the last events to arrive. */
const GRACE_MS = 3000;

export async function karmorStep(emu: EmulatorFixture, agent: Agent, count: number, rate: number) {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-bench-karmor-'));
  const child = spawn(toolBinary('karmor'), ['logs', '--gRPC', agent.fanout.target, ...(process.env.BENCH_KARMOR_TEXT ? [] : ['--json']), '--logFilter', 'policy',
    '--logPath', '/dev/null', '--limit', String(count)], { env: karmorEnv(dir), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
  const exited = once(child, 'exit');
  try {
    const deadline = Date.now() + 30_000;
    while (agent.fanout.subscribers() < 1) {
      if (Date.now() > deadline || child.exitCode !== null) throw new Error(`karmor logs did not subscribe: ${stderr}`);
      await sleep(20);
    }
    const droppedBefore = agent.fanout.dropped();
    const start = sampleProcess(child.pid!);
    let last: ProcessSample = start;
    const others = watchCpu({ agent: process.pid, emulator: daemonPid(emu) });
    const t0 = performance.now();
    let done = false;
    const polling = (async () => {
      while (!done) {
        try { last = sampleProcess(child.pid!); } catch { return; } // gone: keep the last reading
        await sleep(POLL_MS);
      }
    })();
    await emu.machine.generateLoad(count, rate, true);
    const finished = await Promise.race([exited.then(() => true), sleep(GRACE_MS).then(() => false)]);
    const seconds = (performance.now() - t0) / 1000;
    const rest = others.stop(count);
    done = true;
    await polling;
    const karmor = cpuBetween(start, last).total;
    const dropped = agent.fanout.dropped() - droppedBefore;
    const karmorMicros = +((karmor * 1e6) / count).toFixed(2);
    const microsPerEvent = { ...rest.microsPerEvent, karmor: karmorMicros };
    const all = finished && child.exitCode === 0;
    const delivered = Math.round(count / seconds);
    return {
      rate, generated: count, seconds: +seconds.toFixed(3), exitedWithAllEvents: all, subscriberQueueDrops: dropped,
      /** Events per second from the first generated to karmor's exit after the last (when it got them all). */
      perSubscriber: all ? delivered : 0,
      sustained: all && dropped === 0 && delivered >= SUSTAINED_SHARE * rate,
      processCpu: { microsPerEvent, sumMicrosPerEvent: +(rest.sumMicrosPerEvent + karmorMicros).toFixed(2) },
      budgetMicros: budgetMicros(rate),
    };
  } finally {
    if (child.exitCode === null) { child.kill('SIGKILL'); await exited; }
    while (agent.fanout.subscribers() > 0) await sleep(20);
    rmSync(dir, { recursive: true, force: true });
  }
}

export type KarmorStep = Awaited<ReturnType<typeof karmorStep>>;

/** karmor at increasing rates until `stopAfter` steps were not sustained. */
export async function karmorSweep(emu: EmulatorFixture, agent: Agent, plan: Omit<SweepPlan, 'clients'>, log: (s: KarmorStep) => void) {
  const steps: KarmorStep[] = [];
  let missed = 0;
  for (const rate of plan.rates) {
    const step = await karmorStep(emu, agent, Math.round(rate * plan.seconds), rate);
    log(step);
    steps.push(step);
    if (!step.sustained && ++missed >= plan.stopAfter) break;
  }
  const sustained = steps.filter((s) => s.sustained);
  return { steps, sustainedZeroLossRate: sustained.length ? Math.max(...sustained.map((s) => s.rate)) : 0 };
}
