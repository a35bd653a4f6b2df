/**
 * The work queue behind level-based reconciles (controller-runtime's workqueue): a key
 * stands for "look at this again"; any number of adds before a worker picks it up
 * collapse into one run, a key is never processed twice at once, and failures retry
 * with per-key exponential backoff.
 */
export { WorkQueue, DEFAULT_BACKOFF } from './queue.js';
export type { Backoff, WorkQueueObserver, WorkQueueOptions } from './queue.js';
export { runWorkers, TerminalError } from './worker.js';
export type { ReconcileFn, ReconcileResult, WorkerObserver, WorkerOptions } from './worker.js';
