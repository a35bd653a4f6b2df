/**
 * How fast the shared machine ran while a benchmark ran, recorded beside its figures.
 *
 * The load average misses what moves these machines most: they are virtual machines on
 * shared hosts, and the same work takes up to 1.8 times the CPU time when the host is
 * busy, at a load average of 1 and with no steal time reported (measured: the same cold
 * converge took 1656 ms of CPU in one run and 2472 in another, minutes apart). So each
 * benchmark also times a fixed piece of pure CPU work — SPEED_LOOP additions in one
 * optimized loop, no memory, no I/O — before and after its runs.
 *
 * It is a rough sign, not a correction factor: it feels other tenants' load on the cores
 * but not on the caches and memory, and the host's speed changes within seconds (a run
 * read 388 ms before and after and still took 2091 ms of CPU for a cold converge that
 * takes 1656 in a quiet minute). The CPU time of a figure's own work, printed beside its
 * wall time where it matters, is the surer sign; each benchmark's ratios are measured
 * within one run for that reason.
 */
import { loadavg } from 'node:os';

/** Additions in the fixed loop (about 0.35 s on this kind of machine when its host is quiet, 0.6 s when busy). */
export const SPEED_LOOP = 100_000_000;

/** Milliseconds the fixed loop takes now. */
export function speedLoopMs(): number {
  const started = performance.now();
  let sum = 0;
  for (let i = 0; i < SPEED_LOOP; i++) sum += i;
  const ms = performance.now() - started;
  // The sum is used, so the loop is not optimized away.
  if (sum < 0) throw new Error('unreachable');
  return Math.round(ms);
}

export interface HostReading {
  /** The fixed loop's time before and after the benchmark's runs (ms; lower is faster). */
  speedLoopMs: [number, number];
  /** The 1-minute load average before and after. */
  loadAverage: [number, number];
}

/** Starts a reading; `end()` completes it. */
export function watchHost(): { end(): HostReading } {
  const before = { speed: speedLoopMs(), load: loadavg()[0]! };
  return {
    end: () => ({
      speedLoopMs: [before.speed, speedLoopMs()],
      loadAverage: [round2(before.load), round2(loadavg()[0]!)],
    }),
  };
}

/** One line for a benchmark's output. */
export function describeHost(reading: HostReading): string {
  return `host speed: ${SPEED_LOOP.toExponential(0).replace('e+', '·10^')} additions took ${reading.speedLoopMs.join(' -> ')} ms (lower is faster; ` +
    `a rough sign: blind to the host's load on caches and memory); load average ${reading.loadAverage.join(' -> ')}`;
}

const round2 = (x: number): number => Math.round(x * 100) / 100;
