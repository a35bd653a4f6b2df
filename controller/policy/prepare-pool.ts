/**
 * Worker threads that prepare policy texts (parse, validate, translate) off the main
 * thread, one per CPU, so a cold start uses every core and the event loop stays free.
 * A batch is split by size into one chunk per worker; the workers start with the pool
 * (at agent start, while the driver connects and the files are read) and are unref'd.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { TranslationContext } from './compiler.js';
import type { PreparedText } from './prepared.js';
import type { PrepareReply, PrepareRequest } from './prepare-worker.js';
import { workerModule } from '../../driver/package-files/index.js';

const WORKER = workerModule('controller/policy', 'prepare-worker');

/** A worker failed or exited: the caller prepares the texts on its own thread instead. */
export class PreparePoolError extends Error {}

interface Pending {
  results: PreparedText[];
  resolve(prepared: PreparedText[]): void;
  reject(error: Error): void;
}

export class PreparePool {
  private readonly workers: Worker[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;

  constructor(readonly size = availableParallelism()) {
    for (let i = 0; i < size; i++) this.workers.push(this.start(i));
  }

  /** Prepares every text; the order of the answer is the order of `texts`. */
  async prepare(texts: { text: string; location: string }[], context: TranslationContext): Promise<PreparedText[]> {
    if (this.closed) throw new PreparePoolError('the prepare pool is closed');
    const chunks = splitBySize(texts, this.workers.length);
    const answers = await Promise.all(chunks.map((chunk, i) => (chunk.length ? this.send(this.workers[i]!, chunk, context) : [])));
    return answers.flat();
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.failAll(new PreparePoolError('the prepare pool was closed'));
  }

  private start(slot: number): Worker {
    const worker = new Worker(WORKER.url, { workerData: WORKER.workerData });
    worker.unref();
    worker.on('message', (reply: PrepareReply) => {
      const pending = this.pending.get(reply.id);
      if (!pending) return;
      if ('prepared' in reply) {
        pending.results[reply.index] = reply.prepared;
        return;
      }
      this.pending.delete(reply.id);
      if ('error' in reply) pending.reject(new PreparePoolError(`a prepare worker failed: ${reply.error}`));
      else pending.resolve(pending.results);
    });
    worker.on('error', (error) => this.failAll(new PreparePoolError('a prepare worker failed', { cause: error })));
    worker.on('exit', (code) => {
      if (this.closed) return;
      // Its requests fail (the caller parses them inline); a new worker takes the slot.
      this.failAll(new PreparePoolError(`a prepare worker exited (code ${code})`));
      this.workers[slot] = this.start(slot);
    });
    return worker;
  }

  private send(worker: Worker, texts: PrepareRequest['texts'], context: TranslationContext): Promise<PreparedText[]> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { results: new Array<PreparedText>(texts.length), resolve, reject });
      worker.postMessage({ id, context, texts } satisfies PrepareRequest);
    });
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}

/** Consecutive chunks of about equal total length (order kept, so answers concatenate). */
function splitBySize<T extends { text: string }>(items: T[], parts: number): T[][] {
  const total = items.reduce((n, t) => n + t.text.length, 0);
  const chunks: T[][] = Array.from({ length: parts }, () => []);
  let done = 0;
  for (const item of items) {
    const part = Math.min(parts - 1, Math.floor((done * parts) / Math.max(1, total)));
    chunks[part]!.push(item);
    done += item.text.length;
  }
  return chunks;
}
