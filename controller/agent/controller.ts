/**
 * The reconcile controller: one level-based loop that makes the driver's table equal the
 * desired rules. Every trigger — a policy change, a source sync, a driver reconnect, the
 * periodic resync, a table changed behind the agent's back — only marks the single key
 * `driver` dirty; the work queue coalesces them and retries failures with per-key
 * exponential backoff. It is a Runnable: the manager starts and stops it.
 */
import type { Clock, TimerHandle } from '../clock/index.js';
import type { AgentConfig } from '../config/index.js';
import type { HealthStatus, Logger } from '../observability/index.js';
import { WorkQueue, runWorkers, type WorkQueueObserver } from '../queue/index.js';
import type { Reconciler, ReconcileResult } from '../reconcile/index.js';
import type { Runnable } from '../manager/index.js';
import type { DriverLink } from './driver-link.js';

const DRIVER_KEY = 'driver';
const RESYNC_KEY = 'resync';
/**
 * How often the agent asks the driver for its state (one cheap GET_STATE) between full
 * resyncs: a reloaded driver or a table changed behind the agent's back shows as a
 * generation or rule count it did not write, and triggers a read-back at once.
 */
export const DRIVER_WATCH_INTERVAL_MS = 1000;

export interface ReconcileRecord {
  time: Date;
  result?: ReconcileResult;
  error?: string;
}

/** What status and metrics may read of the controller. */
export interface ReconcileView {
  readonly lastReconcile: ReconcileRecord | undefined;
  readonly firstApplyDone: boolean;
}

export interface ReconcileControllerOptions {
  reconciler: Reconciler;
  link: DriverLink;
  clock: Clock;
  logger: Logger;
  config: () => AgentConfig;
  queueObserver: WorkQueueObserver;
  observer: ReconcileObserver;
  startedAt: Date;
}

/** Told about the controller's passes (status, metrics, state events). */
export interface ReconcileObserver {
  /** After every pass, successful or not. */
  reconciled?(): void;
  /** Once, when the driver first enforces the desired state, `seconds` after the agent started. */
  firstApplied?(seconds: number): void;
}

export class ReconcileController implements Runnable, ReconcileView {
  readonly name = 'reconciler';
  private readonly queue: WorkQueue<string>;
  private workers: Promise<void> | undefined;
  private watchTimer: TimerHandle | undefined;
  private stopped = false;
  private last: ReconcileRecord | undefined;
  private applied = false;

  constructor(private readonly options: ReconcileControllerOptions) {
    this.queue = new WorkQueue<string>({ clock: options.clock, backoff: options.config().reconcile.backoff, observer: options.queueObserver });
  }

  get lastReconcile(): ReconcileRecord | undefined { return this.last; }
  get firstApplyDone(): boolean { return this.applied; }

  start(): Promise<void> {
    this.workers = runWorkers(this.queue, (key) => this.reconcileKey(key), {
      observer: {
        failed: (key, error, retryInMs) => this.options.logger.warn('reconcile will be retried', {
          key, error: (error as Error).message, retryInMs,
        }),
      },
    });
    this.trigger();
    this.scheduleResync();
    this.watchDriver();
    return Promise.resolve();
  }

  /** Let an in-flight apply finish, then stop reconciling and release the driver. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchTimer) this.options.clock.clearTimeout(this.watchTimer);
    this.queue.shutDown();
    await this.workers;
    await this.options.link.close();
  }

  /** Not ready before the first apply, nor while the driver refuses the agent's IOCTLs. */
  ready(): HealthStatus {
    if (!this.applied) return { ok: false, reason: 'first apply not done' };
    return this.last?.error === undefined ? { ok: true } : { ok: false, reason: `last reconcile failed: ${this.last.error}` };
  }

  /** A reconcile is needed (coalesced). */
  trigger(): void { this.queue.add(DRIVER_KEY); }

  /** Ask for a full read-back and reconcile now (drift check). */
  resyncNow(): void {
    this.options.reconciler.requestReadBack();
    this.trigger();
  }

  /** Config changed: backoff and resync interval follow. */
  reconfigure(config: AgentConfig, resyncChanged: boolean): void {
    this.queue.setBackoff(config.reconcile.backoff);
    if (resyncChanged) this.scheduleResync();
    this.trigger();
  }

  whenIdle(): Promise<void> { return this.queue.whenIdle(); }

  private async reconcileKey(key: string): Promise<{ requeueAfterMs?: number } | void> {
    if (key === RESYNC_KEY) {
      this.resyncNow();
      return { requeueAfterMs: this.resyncDelay() };
    }
    const { link, reconciler, clock } = this.options;
    try {
      await link.ensure();
      const result = await reconciler.reconcile();
      this.last = { time: new Date(clock.now()), result };
      if (result.outcome !== 'waiting' && !this.applied) this.markApplied();
    } catch (error) {
      this.last = { time: new Date(clock.now()), error: (error as Error).message };
      await link.failed(error);
      throw error;
    } finally {
      this.options.observer.reconciled?.();
    }
  }

  private markApplied(): void {
    this.applied = true;
    this.options.observer.firstApplied?.((this.options.clock.now() - this.options.startedAt.getTime()) / 1000);
  }

  private watchDriver(): void {
    this.watchTimer = this.options.clock.setTimeout(() => {
      void this.checkDriver().finally(() => { if (!this.stopped) this.watchDriver(); });
    }, DRIVER_WATCH_INTERVAL_MS);
  }

  private async checkDriver(): Promise<void> {
    const { link, reconciler, logger } = this.options;
    const driver = link.current;
    const applied = reconciler.appliedGeneration;
    // During a pass the generation and counts are in motion; the pass reads the driver itself.
    if (!driver || applied === undefined || reconciler.passing) return;
    try {
      const state = await driver.getState();
      if (state.generation === applied && state.ruleCount === reconciler.rulesApplied) return;
      logger.warn('the driver table changed behind the agent: reading it back', {
        generation: String(state.generation), expected: String(applied), rules: state.ruleCount,
      });
    } catch (error) {
      await link.failed(error);
    }
    this.resyncNow();
  }

  private resyncDelay(): number {
    const { resyncIntervalSeconds, resyncJitter } = this.options.config().reconcile;
    const jitter = 1 + (Math.random() * 2 - 1) * resyncJitter;
    return Math.max(1, resyncIntervalSeconds * 1000 * jitter);
  }

  /** Of several pending resyncs the earliest wins, so a shorter new interval applies at once. */
  private scheduleResync(): void {
    this.queue.addAfter(RESYNC_KEY, this.resyncDelay());
  }
}
