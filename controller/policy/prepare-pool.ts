/**
 * Worker threads that prepare policy texts (parse, validate, translate) off the main
 * thread, one per CPU, so a cold start uses every core and the event loop stays free.
 * A batch is cut into small chunks that the workers take in order as they finish the
 * last one (two in flight each, so a worker never waits for the main thread), and each
 * chunk's texts are handed to the caller as soon as they are prepared: the main thread
 * merges the first policies while the workers parse the rest, instead of idling until
 * the end.
 * The workers are unref'd, and run below normal priority (./worker-priority.ts).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { TranslationContext } from './compiler.js';
import type { PreparedText } from './prepared.js';
import type { PrepareReply, PrepareRequest } from './prepare-worker.js';
import { unpackChunk } from './prepared-chunk.js';
import { workerModule } from '../../driver/package-files/index.js';

const WORKER = workerModule('controller/policy', 'prepare-worker');

/** About this many characters of policy text per request to a worker. */
const CHUNK_CHARS = 48 * 1024;
/** Requests in flight per worker: the next one is queued before the last one's answer is read. */
const IN_FLIGHT = 2;

/** A worker failed or exited: the caller prepares the texts on its own thread instead. */
export class PreparePoolError extends Error {}

type Texts = PrepareRequest['texts'];

/** One `prepare` call: its chunks not yet sent, and what it is told. */
interface Batch {
  context: TranslationContext;
  chunks: { first: number; texts: Texts }[];
  /** Chunks sent and not yet done. */
  open: number;
  each(index: number, prepared: PreparedText): void;
  resolve(): void;
  reject(error: Error): void;
}

interface Request { batch: Batch; first: number; worker: number }

export class PreparePool {
  private readonly workers: Worker[] = [];
  private readonly busy: number[] = [];
  private readonly requests = new Map<number, Request>();
  private readonly batches: Batch[] = [];
  private nextId = 1;
  private closed = false;

  /**
   * `onPriorityError`: told once per pool when a worker could not lower its priority (it
   * then prepares at normal priority, and the main thread shares the cores with it evenly).
   */
  constructor(readonly size = availableParallelism(), private onPriorityError?: (error: string) => void) {
    for (let i = 0; i < size; i++) {
      this.workers.push(this.start(i));
      this.busy.push(0);
    }
  }

  /**
   * Prepares every text; `each(index, prepared)` is called for each one as it is ready
   * (in about the order of `texts`). Resolves once all are.
   */
  prepare(texts: Texts, context: TranslationContext, each: (index: number, prepared: PreparedText) => void): Promise<void> {
    if (this.closed) return Promise.reject(new PreparePoolError('the prepare pool is closed'));
    if (texts.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.batches.push({ context, chunks: chunked(texts), open: 0, each, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new PreparePoolError('the prepare pool was closed'));
  }

  /** Hands the next chunks to the workers with room, the lightest loaded first. */
  private dispatch(): void {
    for (;;) {
      const batch = this.batches.find((b) => b.chunks.length > 0);
      if (!batch) return;
      let slot = -1;
      for (let i = 0; i < this.workers.length; i++) if (this.busy[i]! < IN_FLIGHT && (slot < 0 || this.busy[i]! < this.busy[slot]!)) slot = i;
      if (slot < 0) return;
      const chunk = batch.chunks.shift()!;
      const id = this.nextId++;
      this.requests.set(id, { batch, first: chunk.first, worker: slot });
      this.busy[slot]!++;
      batch.open++;
      this.workers[slot]!.postMessage({ id, context: batch.context, texts: chunk.texts } satisfies PrepareRequest);
    }
  }

  private start(slot: number): Worker {
    const worker = new Worker(WORKER.url, { workerData: WORKER.workerData });
    worker.unref();
    worker.on('message', (reply: PrepareReply) => this.answered(reply));
    worker.on('error', (error) => this.failAll(new PreparePoolError('a prepare worker failed', { cause: error })));
    worker.on('exit', (code) => {
      if (this.closed) return;
      // Its requests fail (the caller parses them inline); a new worker takes the slot.
      this.failAll(new PreparePoolError(`a prepare worker exited (code ${code})`));
      this.workers[slot] = this.start(slot);
    });
    return worker;
  }

  private answered(reply: PrepareReply): void {
    if ('priorityError' in reply) {
      const told = this.onPriorityError;
      this.onPriorityError = undefined;
      told?.(reply.priorityError);
      return;
    }
    const request = this.requests.get(reply.id);
    if (!request) return;
    const { batch } = request;
    this.requests.delete(reply.id);
    this.busy[request.worker]!--;
    if ('error' in reply) {
      this.fail(batch, new PreparePoolError(`a prepare worker failed: ${reply.error}`));
      return;
    }
    unpackChunk(reply.chunk).forEach((prepared, i) => batch.each(request.first + i, prepared));
    batch.open--;
    if (batch.open === 0 && batch.chunks.length === 0) {
      this.batches.splice(this.batches.indexOf(batch), 1);
      batch.resolve();
    }
    this.dispatch();
  }

  private fail(batch: Batch, error: Error): void {
    const at = this.batches.indexOf(batch);
    if (at < 0) return;
    this.batches.splice(at, 1);
    for (const [id, r] of this.requests) if (r.batch === batch) this.requests.delete(id);
    batch.reject(error);
  }

  private failAll(error: Error): void {
    for (const batch of [...this.batches]) this.fail(batch, error);
    this.requests.clear();
    this.busy.fill(0);
  }
}

/** Consecutive chunks of about CHUNK_CHARS characters (at least one text each), in order. */
function chunked(texts: Texts): { first: number; texts: Texts }[] {
  const chunks: { first: number; texts: Texts }[] = [];
  let first = 0;
  let chars = 0;
  for (let i = 0; i < texts.length; i++) {
    chars += texts[i]!.text.length;
    if (chars >= CHUNK_CHARS || i === texts.length - 1) {
      chunks.push({ first, texts: texts.slice(first, i + 1) });
      first = i + 1;
      chars = 0;
    }
  }
  return chunks;
}
