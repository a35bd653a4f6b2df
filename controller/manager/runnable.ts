/**
 * A runnable: one long-running part of the agent (a source, the reconcile controller,
 * the driver watch, the event pipeline, a server). The manager starts it and stops it;
 * it never starts itself.
 */
import type { HealthStatus } from '../observability/index.js';

export interface Runnable {
  /** Unique within a manager; names the part in logs and readiness. */
  readonly name: string;
  /**
   * Start; resolves once the part is running (a server listening, a source watching).
   * Long-running work continues in the background after it resolves.
   */
  start(): Promise<void>;
  /** Stop and release everything; must be safe to call once after a successful start. */
  stop(): Promise<void>;
  /** Readiness of this part; absent means ready whenever it is running. */
  ready?(): HealthStatus;
}
