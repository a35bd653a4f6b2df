/** A cancellable pending timer; opaque to callers. */
export interface TimerHandle {
  readonly __timer: true;
}

export interface Clock {
  /** Milliseconds since the epoch (wall time; a fake clock starts at a fixed instant). */
  now(): number;
  /** Run `fn` once after `ms` milliseconds (negative or NaN counts as 0). */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** Cancel a pending timer; harmless for fired or cancelled ones. */
  clearTimeout(handle: TimerHandle): void;
}

interface RealTimer extends TimerHandle {
  timeout: NodeJS.Timeout;
}

/** The process's clock: Date.now and the global timers. */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout(fn, ms) {
    const timeout = setTimeout(fn, Math.max(0, ms || 0));
    return { __timer: true, timeout } as RealTimer;
  },
  clearTimeout(handle) {
    clearTimeout((handle as RealTimer).timeout);
  },
};

/** Resolve after `ms` on `clock`; rejects with the signal's reason when aborted. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(handle);
      reject(signal?.reason as Error);
    };
    const handle = clock.setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
