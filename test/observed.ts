/**
 * Observer calls, for tests: pass `calls.record` as an observer method, then await the
 * next call (optionally one matching a predicate), as `events.once` does for an emitter.
 */
export class ObservedCalls<A extends unknown[]> {
  readonly all: A[] = [];
  private waiters: Array<{ matches: (...args: A) => boolean; resolve: (args: A) => void }> = [];

  readonly record = (...args: A): void => {
    this.all.push(args);
    const ready = this.waiters.filter((w) => w.matches(...args));
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const w of ready) w.resolve(args);
  };

  /** The next call from now on that matches. */
  next(matches: (...args: A) => boolean = () => true): Promise<A> {
    return new Promise((resolve) => this.waiters.push({ matches, resolve }));
  }

  get count(): number {
    return this.all.length;
  }
}
