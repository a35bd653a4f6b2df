/** What the reconciler reports, as narrow interfaces the agent binds to its metrics and logger. */
import type { RefusalCheck } from './admission.js';

export interface ReconcileMetrics {
  reconciled(result: 'applied' | 'unchanged' | 'waiting' | 'error', seconds: number): void;
  /** A write met a generation conflict (the pass retries after a read-back). */
  conflicted(): void;
  rulesDesired(count: number): void;
  rulesApplied(count: number): void;
  driftCorrected(count: number): void;
  /** Desired rules not in the driver, by who refused them (a node check or the driver). */
  rulesRefused(counts: Readonly<Record<RefusalCheck, number>>): void;
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(fields: Record<string, unknown>): Logger;
}
