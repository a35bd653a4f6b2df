import type { WorkQueue } from './queue.js';

/** What a reconcile asks of the queue besides "done". */
export interface ReconcileResult {
  /** Run this key again after this many milliseconds (e.g. the periodic resync). */
  requeueAfterMs?: number;
}

export type ReconcileFn<K> = (key: K) => Promise<ReconcileResult | void>;

/** An error retrying cannot fix (bad input): the key is forgotten, not retried. */
export class TerminalError extends Error {
  override readonly name = 'TerminalError';
}

/** Told about the workers' runs (logs). */
export interface WorkerObserver<K> {
  /** A run failed; it is retried in `retryInMs` (undefined for terminal errors: not retried). */
  failed?(key: K, error: unknown, retryInMs: number | undefined): void;
}

export interface WorkerOptions<K> {
  /** Concurrent workers; a key is still never processed twice at once. Default 1. */
  workers?: number;
  observer?: WorkerObserver<K>;
}

/**
 * Process keys until the queue is shut down and drained: success forgets the key's
 * backoff (and honours requeueAfterMs), a thrown error retries it with backoff, a
 * TerminalError does not. Resolves when every worker has stopped.
 */
export async function runWorkers<K>(queue: WorkQueue<K>, reconcile: ReconcileFn<K>, options: WorkerOptions<K> = {}): Promise<void> {
  const count = Math.max(1, options.workers ?? 1);
  await Promise.all(Array.from({ length: count }, () => workLoop(queue, reconcile, options)));
}

async function workLoop<K>(queue: WorkQueue<K>, reconcile: ReconcileFn<K>, options: WorkerOptions<K>): Promise<void> {
  for (let key = await queue.get(); key !== undefined; key = await queue.get()) {
    try {
      const result = await reconcile(key);
      queue.forget(key);
      if (result?.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
    } catch (error) {
      handleFailure(queue, key, error, options);
    } finally {
      queue.done(key);
    }
  }
}

function handleFailure<K>(queue: WorkQueue<K>, key: K, error: unknown, options: WorkerOptions<K>): void {
  if (error instanceof TerminalError) {
    queue.forget(key);
    options.observer?.failed?.(key, error, undefined);
    return;
  }
  const delay = queue.addRateLimited(key);
  options.observer?.failed?.(key, error, delay);
}
