import { backoffDelay, realClock, type Clock, type TimerHandle } from '../clock/index.js';

/**
 * Per-key retry delays: the n-th consecutive failure (n = 0, 1, …) waits
 * min(initialMs · 2^n, maxMs). With the defaults: 100 ms, 200 ms, 400 ms, … 25.6 s,
 * then 30 s for every further failure until the key is forgotten.
 */
export interface Backoff {
  initialMs: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { initialMs: 100, maxMs: 30_000 };

/** Told about depth changes and retries, for metrics. */
export interface WorkQueueObserver {
  depth?(depth: number): void;
  retry?(): void;
}

export interface WorkQueueOptions {
  clock?: Clock;
  backoff?: Backoff;
  observer?: WorkQueueObserver;
}

interface Delayed {
  at: number;
  timer: TimerHandle;
}

export class WorkQueue<K = string> {
  private readonly clock: Clock;
  private backoff: Backoff;
  private readonly observer: WorkQueueObserver;
  /** Keys ready to be handed out, in order; each also in `dirty`. */
  private readonly queue: K[] = [];
  /** Keys that need a run (queued, or re-added while processing). */
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly delayed = new Map<K, Delayed>();
  private readonly failures = new Map<K, number>();
  private getters: Array<(key: K | undefined) => void> = [];
  private idleWaiters: Array<() => void> = [];
  private shuttingDown = false;

  constructor(options: WorkQueueOptions = {}) {
    this.clock = options.clock ?? realClock;
    this.backoff = { ...(options.backoff ?? DEFAULT_BACKOFF) };
    this.observer = options.observer ?? {};
  }

  /** Mark `key` for a run. Coalesces with a pending run; a key being processed runs once more after `done`. */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    this.enqueue(key);
  }

  /** Add `key` after `delayMs`; of several pending delayed adds of one key the earliest wins. */
  addAfter(key: K, delayMs: number): void {
    if (this.shuttingDown) return;
    if (!(delayMs > 0)) {
      this.add(key);
      return;
    }
    const at = this.clock.now() + delayMs;
    const existing = this.delayed.get(key);
    if (existing && existing.at <= at) return;
    if (existing) this.clock.clearTimeout(existing.timer);
    const timer = this.clock.setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, delayMs);
    this.delayed.set(key, { at, timer });
  }

  /** Retry `key` after its backoff delay and count the retry; returns the delay in ms. */
  addRateLimited(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    const delay = backoffDelay(n, this.backoff.initialMs, this.backoff.maxMs);
    this.observer.retry?.();
    this.addAfter(key, delay);
    return delay;
  }

  /** Reset `key`'s backoff (after a success). */
  forget(key: K): void {
    this.failures.delete(key);
  }

  /** Consecutive failures recorded for `key` since it was last forgotten. */
  retries(key: K): number {
    return this.failures.get(key) ?? 0;
  }

  /** Change the backoff bounds (live config); applies to the next failure. */
  setBackoff(backoff: Backoff): void {
    this.backoff = { ...backoff };
  }

  /** The next key to process (waits for one); undefined once shut down and empty. Call `done` after. */
  get(): Promise<K | undefined> {
    const key = this.queue.shift();
    if (key !== undefined) return Promise.resolve(this.take(key));
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  /** Processing of `key` finished; if it was re-added meanwhile it is queued again. */
  done(key: K): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) this.enqueue(key);
    if (this.processing.size === 0) this.wakeIdle();
  }

  /** Keys waiting to be processed (the depth metric). */
  get length(): number {
    return this.queue.length;
  }

  /** Keys a worker holds right now. */
  get processingCount(): number {
    return this.processing.size;
  }

  /** Keys scheduled by addAfter/addRateLimited that are not due yet. */
  get delayedCount(): number {
    return this.delayed.size;
  }

  get isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Stop accepting keys and drop delayed ones; queued keys are still handed out. */
  shutDown(): void {
    this.shuttingDown = true;
    for (const d of this.delayed.values()) this.clock.clearTimeout(d.timer);
    this.delayed.clear();
    if (this.queue.length === 0) {
      const getters = this.getters;
      this.getters = [];
      for (const g of getters) g(undefined);
    }
  }

  /** Resolve when no key is being processed (in-flight work finished). */
  whenIdle(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private enqueue(key: K): void {
    const getter = this.getters.shift();
    if (getter) {
      getter(this.take(key));
      return;
    }
    this.queue.push(key);
    this.observer.depth?.(this.queue.length);
  }

  private take(key: K): K {
    this.dirty.delete(key);
    this.processing.add(key);
    this.observer.depth?.(this.queue.length);
    return key;
  }

  private wakeIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}
