/** Timing and memory probes of compiled kawin processes, for bench:startup. */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { EMULATOR_LIBRARY } from '../../driver/emulator/index.js';
import { packageFile } from '../../driver/package-files/index.js';
import { CONTROL_STOP, CONTROL_WORDS, type PortReaderData } from '../../driver/client/port-protocol.js';

/**
 * Medians of wall time and of CPU time (user + system, every thread). On a busy machine
 * the wall time includes waiting for a core; the CPU time is what an idle core would take.
 */
export interface Timing {
  medianMs: number;
  minMs: number;
  cpuMedianMs: number;
  runs: number;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function summarize(wall: number[], cpu: number[]): Timing {
  return { medianMs: +median(wall).toFixed(1), minMs: +Math.min(...wall).toFixed(1), cpuMedianMs: +median(cpu).toFixed(1), runs: wall.length };
}

/** Wall and CPU time from spawn to exit of `node args…` (GNU time), `runs` times; the command must exit with `expect`. */
export function timeCommand(args: string[], runs: number, expect = 0): Timing {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const r = spawnSync('/usr/bin/time', ['-f', 'KAWIN_CPU %U %S', process.execPath, ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    wall.push(performance.now() - start);
    if (r.error) throw new Error(`GNU time (/usr/bin/time) is needed: ${r.error.message}`);
    if (r.status !== expect) throw new Error(`node ${args.join(' ')} exited ${r.status}, expected ${expect}:\n${r.stderr}${r.stdout}`);
    const m = /KAWIN_CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
    cpu.push((Number(m?.[1]) + Number(m?.[2])) * 1000);
  }
  return summarize(wall, cpu);
}

/** Starts the compiled agent; resolves once its first apply is done. */
export function startAgent(config: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [packageFile('bin/kawin.js').pathname, 'agent', '--config', config], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('initial sync done')) resolve(child);
    });
    child.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    child.once('exit', (code) => reject(new Error(`agent exited (${code}) before its first apply:\n${out}`)));
  });
}

/** Resident set size of a process (Linux /proc), in MB. */
export function rssMb(pid: number): number {
  const kb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
  return +(kb / 1024).toFixed(1);
}

/**
 * One event-worker start: the compiled port reader (dist/port-reader.cjs) from `new Worker`
 * until it answers, with the emulator's shim loaded through koffi, as the agent starts it.
 * The stop word is set first, so the worker ends its read loop at once and says so.
 */
function workerStartOnce(url: URL, entry: string): Promise<[number, number]> {
  const control = new SharedArrayBuffer(4 * CONTROL_WORDS);
  Atomics.store(new Int32Array(control), CONTROL_STOP, 1);
  const data: PortReaderData = {
    spec: { library: EMULATOR_LIBRARY }, bufferBytes: 65_536, slots: 1, control,
    ring: new SharedArrayBuffer(65_536), lengths: new SharedArrayBuffer(4),
  };
  const start = performance.now();
  const cpu = process.cpuUsage();
  // No execArgv: the agent's workers inherit the agent's (none), not this bench's tsx loader.
  const worker = new Worker(url, { workerData: { ...data, entry }, execArgv: [] });
  return new Promise((resolve, reject) => {
    worker.once('message', () => {
      const used = process.cpuUsage(cpu);
      resolve([performance.now() - start, (used.user + used.system) / 1000]);
      void worker.terminate();
    });
    worker.once('error', reject);
    worker.once('online', () => worker.postMessage({ type: 'read', handle: 0n }));
  });
}

/** `runs` worker starts; CPU is the whole process's (its main thread only waits meanwhile). */
export async function timeWorkerStart(url: URL, entry: string, runs: number): Promise<Timing> {
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const [w, c] = await workerStartOnce(url, entry);
    wall.push(w);
    cpu.push(c);
  }
  return summarize(wall, cpu);
}
