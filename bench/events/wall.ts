/**
 * Whether one subscriber at the goal rate can fit on this machine at all: the CPU every
 * process of the sustained run spends per event (the emulator's generator and port, the
 * agent's port reader and main thread, the subscriber process), measured at the sweep's
 * step nearest the goal, times the goal rate, against the machine's cores.
 */
import { budgetMicros, CORES, type CpuShares } from './cpu.js';

interface MeasuredStep {
  rate: number | string;
  sustained: boolean;
  processCpu: CpuShares;
}

export interface WallVerdict {
  goalRate: number;
  /** The step whose CPU figures are used: the lowest rate at or above the goal, else the highest. */
  atRate: number;
  microsPerEvent: Record<string, number>;
  sumMicrosPerEvent: number;
  /** CPU µs per event the machine has at the goal rate (all cores). */
  budgetMicrosAtGoal: number;
  /** CPU-seconds per second the goal rate needs at the measured cost. */
  coresNeededAtGoal: number;
  cores: number;
  /** The measured costs exceed the machine at the goal rate: the wall, not the code's pacing. */
  overBudget: boolean;
  /** Cores the rest of the machine (not this run's processes) kept busy during that step. */
  othersCores: number;
}

export function wallVerdict(steps: MeasuredStep[], goalRate: number): WallVerdict {
  const paced = steps.filter((s): s is MeasuredStep & { rate: number } => typeof s.rate === 'number').sort((a, b) => a.rate - b.rate);
  const step = paced.find((s) => s.rate >= goalRate) ?? paced.at(-1);
  if (!step) throw new Error('no paced step measured');
  const sum = step.processCpu.sumMicrosPerEvent;
  const needed = +((sum * goalRate) / 1e6).toFixed(2);
  return {
    goalRate, atRate: step.rate, microsPerEvent: step.processCpu.microsPerEvent, sumMicrosPerEvent: sum,
    budgetMicrosAtGoal: budgetMicros(goalRate), coresNeededAtGoal: needed, cores: CORES, overBudget: needed > CORES,
    othersCores: +Math.max(0, step.processCpu.machineCoresBusy - step.processCpu.coresBusy).toFixed(2),
  };
}

/** `role µs/ev` pairs of a step, for the console. */
export function cpuLine(c: CpuShares): string {
  const parts = Object.entries(c.microsPerEvent).map(([role, us]) => `${role} ${us}`);
  return `CPU µs/ev: ${parts.join(', ')}; sum ${c.sumMicrosPerEvent}; cores busy: these ${c.coresBusy}, whole machine ${c.machineCoresBusy}`;
}
