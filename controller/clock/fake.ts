import type { Clock, TimerHandle } from './clock.js';

interface FakeTimer extends TimerHandle {
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock that only moves when told. Timers fire in due order (ties in creation order)
 * during `advance`, including timers set by callbacks that fall within the window.
 */
export class FakeClock implements Clock {
  private current: number;
  private seq = 0;
  private timers = new Set<FakeTimer>();
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(start = Date.UTC(2026, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: FakeTimer = { __timer: true, at: this.current + Math.max(0, ms || 0), seq: this.seq++, fn };
    this.timers.add(timer);
    this.notifyWaiters();
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    this.timers.delete(handle as FakeTimer);
  }

  /** Number of timers waiting to fire. */
  get pending(): number {
    return this.timers.size;
  }

  /** Milliseconds until the next timer is due, or undefined when none is pending. */
  nextTimerIn(): number | undefined {
    const next = this.next();
    return next === undefined ? undefined : next.at - this.current;
  }

  /** Move time forward by `ms`, firing every timer that falls due, synchronously. */
  advance(ms: number): void {
    const end = this.current + ms;
    for (let timer = this.next(); timer && timer.at <= end; timer = this.next()) {
      this.timers.delete(timer);
      this.current = Math.max(this.current, timer.at);
      timer.fn();
    }
    this.current = end;
  }

  /**
   * Like `advance`, but lets promise continuations and I/O callbacks run after each
   * fired timer, for code whose timers schedule async work that sets further timers.
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.current + ms;
    await settle();
    for (let timer = this.next(); timer && timer.at <= end; timer = this.next()) {
      this.timers.delete(timer);
      this.current = Math.max(this.current, timer.at);
      timer.fn();
      await settle();
    }
    this.current = end;
  }

  /** Resolve once at least `count` timers are pending (e.g. a debounce was armed). */
  waitForTimers(count = 1): Promise<void> {
    if (this.timers.size >= count) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ count, resolve }));
  }

  /**
   * Fire timers one due time at a time, as they get armed, until `promise` settles: for
   * waiting on an outcome that follows real I/O (a file-system event arms a debounce
   * timer at an unknown moment). Returns the promise's result.
   */
  async runUntil<T>(promise: Promise<T>): Promise<T> {
    let settled = false;
    const observed = promise.finally(() => (settled = true));
    observed.catch(() => undefined);
    while (!settled) {
      await Promise.race([observed.then(() => undefined, () => undefined), this.waitForTimers(1)]);
      if (!settled) await this.advanceAsync(this.nextTimerIn() ?? 0);
    }
    return promise;
  }

  private next(): FakeTimer | undefined {
    let best: FakeTimer | undefined;
    for (const t of this.timers) {
      if (!best || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }

  private notifyWaiters(): void {
    const ready = this.waiters.filter((w) => this.timers.size >= w.count);
    this.waiters = this.waiters.filter((w) => this.timers.size < w.count);
    for (const w of ready) w.resolve();
  }
}

/** Let queued microtasks and one round of the event loop run. */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
