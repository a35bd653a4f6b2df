/**
 * Where the CPU goes in bench:events, per process and per thread, from /proc (Linux):
 * utime + stime of /proc/<pid>/stat (the whole process, exited threads included) and of
 * each /proc/<pid>/task/<tid>/stat, in clock ticks (USER_HZ, 100 on Linux: 10 ms
 * resolution, fine over steps of seconds). Threads are told apart by their name
 * (/proc/.../comm): the agent's port reader names itself (driver/client/port-reader.ts);
 * the main thread is the one whose id is the process id.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { PORT_READER_THREAD_NAME } from '../../driver/client/port-protocol.js';

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** Ticks (user + system) of a stat line; fields counted after the name, which may hold spaces. */
function ticksOf(stat: string): number {
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return Number(rest[11]) + Number(rest[12]); // fields 14 (utime) and 15 (stime)
}

export interface ProcessSample {
  pid: number;
  ticks: number;
  threads: Map<number, { name: string; ticks: number }>;
}

export function sampleProcess(pid: number): ProcessSample {
  const ticks = ticksOf(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  const threads = new Map<number, { name: string; ticks: number }>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const base = `/proc/${pid}/task/${tid}`;
      threads.set(Number(tid), { name: readFileSync(`${base}/comm`, 'utf8').trim(), ticks: ticksOf(readFileSync(`${base}/stat`, 'utf8')) });
    } catch { /* the thread ended between the listing and the read */ }
  }
  return { pid, ticks, threads };
}

/** CPU seconds between two samples: the process, its main thread, and each named thread kind summed. */
export function cpuBetween(before: ProcessSample, after: ProcessSample): { total: number; main: number; byName: Record<string, number> } {
  const sec = (t: number) => t / TICKS_PER_SECOND;
  const byName: Record<string, number> = {};
  let main = 0;
  for (const [tid, t] of after.threads) {
    const d = sec(t.ticks - (before.threads.get(tid)?.ticks ?? 0));
    if (tid === after.pid) main = d;
    else byName[t.name] = (byName[t.name] ?? 0) + d;
  }
  return { total: sec(after.ticks - before.ticks), main, byName };
}

/** The processes of a run, by role. */
export type Roles = Record<string, number>;

/** Busy and total jiffies of the whole machine (/proc/stat's cpu line): what every process used. */
function machineTicks(): { busy: number; total: number } {
  const f = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const total = f.slice(0, 8).reduce((a, b) => a + b, 0); // user nice system idle iowait irq softirq steal
  return { busy: total - f[3]! - f[4]!, total };
}

export interface CpuWatch {
  /** CPU µs per `events` for each role (and, for the agent, its threads), their sum, and how busy the machine was. */
  stop(events: number): CpuShares;
}

export interface CpuShares {
  /** µs of CPU per event, per role; `agent.main` etc. per thread kind where the role has several. */
  microsPerEvent: Record<string, number>;
  sumMicrosPerEvent: number;
  /** CPU-seconds used per wall second over the watch, all roles. */
  coresBusy: number;
  /** CPU-seconds per wall second the whole machine used over the watch (these roles and everything else on it). */
  machineCoresBusy: number;
}

/** Starts watching `roles`' CPU; `threads` lists the roles whose threads are shown apart. */
export function watchCpu(roles: Roles, threads: string[] = ['agent']): CpuWatch {
  const before = Object.fromEntries(Object.entries(roles).map(([role, pid]) => [role, sampleProcess(pid)]));
  const machine = machineTicks();
  const start = performance.now();
  return {
    stop(events) {
      const seconds = (performance.now() - start) / 1000;
      const m = machineTicks();
      const microsPerEvent: Record<string, number> = {};
      let sum = 0;
      for (const [role, pid] of Object.entries(roles)) {
        const c = cpuBetween(before[role]!, sampleProcess(pid));
        const per = (s: number) => +((s * 1e6) / Math.max(1, events)).toFixed(2);
        microsPerEvent[role] = per(c.total);
        sum += c.total;
        if (!threads.includes(role)) continue;
        microsPerEvent[`${role}.main`] = per(c.main);
        const reader = c.byName[PORT_READER_THREAD_NAME] ?? 0;
        if (PORT_READER_THREAD_NAME in c.byName) microsPerEvent[`${role}.portReader`] = per(reader);
        microsPerEvent[`${role}.other`] = per(c.total - c.main - reader);
      }
      return {
        microsPerEvent, sumMicrosPerEvent: +((sum * 1e6) / Math.max(1, events)).toFixed(2),
        coresBusy: +(sum / Math.max(1e-3, seconds)).toFixed(2),
        machineCoresBusy: +((CORES * (m.busy - machine.busy)) / Math.max(1, m.total - machine.total)).toFixed(2),
      };
    },
  };
}

export const CORES = cpus().length;

/** CPU µs per event the machine has at `rate` events per second: every core, all of each second. */
export const budgetMicros = (rate: number): number => +((CORES * 1e6) / rate).toFixed(2);
