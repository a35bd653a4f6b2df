/**
 * PolicyPreparer: the one way the agent turns a policy text into a parse result and its
 * translated rules. A text is looked up in the compile cache first (a restart with
 * nothing changed parses nothing); a batch of unknown texts (a cold start, a rescan) is
 * prepared in worker threads; a single text is prepared inline (lower latency than a
 * round trip to a worker). Whatever prepared it, the result is the same data, hydrated
 * the same way, and the compiler is seeded with the translations. The workers live for
 * one batch: each holds a V8 heap with the parser and the schemas (tens of MB), which an
 * agent at rest should not pay for.
 */
import type { PolicyCompiler } from './compiler.js';
import type { CompileCache } from './compile-cache.js';
import { PreparePool } from './prepare-pool.js';
import { hydrate, prepareText, preparedKey, type PreparedText } from './prepared.js';
import { translateFor } from './compiler.js';
import type { ParseResult } from './types.js';

/** Below this many unknown texts a batch is prepared inline: a worker round trip would cost more. */
export const MIN_WORKER_BATCH = 16;

export interface PrepareCounts {
  /** Texts found in the compile cache. */
  cached: number;
  /** Texts prepared by worker threads. */
  prepared: number;
  /** Texts parsed on the calling thread. */
  inline: number;
  /** Batches whose workers failed (the texts were then parsed inline). */
  workerFailures: number;
}

export interface PreparerOptions {
  compiler: () => PolicyCompiler;
  cache: CompileCache;
  /** Worker threads (0: always inline). Default: one per CPU. */
  workers?: number;
}

export class PolicyPreparer {
  readonly counts: PrepareCounts = { cached: 0, prepared: 0, inline: 0, workerFailures: 0 };
  private pool: PreparePool | undefined;
  /** Prepared by workers, waiting for the synchronous `parse` of the same text. */
  private readonly ready = new Map<string, PreparedText>();

  constructor(private readonly options: PreparerOptions) {}

  /** Starts the worker threads for a batch. */
  private warm(): void {
    if ((this.options.workers ?? 1) > 0) this.pool ??= new PreparePool(this.options.workers);
  }

  /** Prepares, in worker threads, the texts of a batch that the cache does not hold. */
  async prepareAll(texts: { text: string; location: string }[]): Promise<void> {
    const compiler = this.options.compiler();
    const contextKey = compiler.contextKey;
    const missing = texts.filter((t) => !this.options.cache.get(t.location, preparedKey(t.text, t.location, contextKey)));
    if (missing.length >= MIN_WORKER_BATCH && (this.options.workers ?? 1) > 0) {
      this.warm();
      const pool = this.pool!;
      this.pool = undefined;
      try {
        const prepared = await pool.prepare(missing, compiler.translation);
        // The context may have changed meanwhile: such results are simply never looked up.
        missing.forEach((t, i) => this.ready.set(preparedKey(t.text, t.location, contextKey), prepared[i]!));
        this.counts.prepared += missing.length;
      } catch {
        this.counts.workerFailures++;
      } finally {
        void pool.close();
      }
    }
  }

  /** The parse result of one text (cache, worker result or inline), with the compiler seeded. */
  parse(text: string, location: string): ParseResult {
    const compiler = this.options.compiler();
    const key = preparedKey(text, location, compiler.contextKey);
    let prepared = this.options.cache.get(location, key);
    if (prepared) {
      this.counts.cached++;
    } else {
      prepared = this.ready.get(key);
      this.ready.delete(key);
      if (!prepared) {
        prepared = prepareText(text, location, translateFor(compiler.translation));
        this.counts.inline++;
      }
      this.options.cache.set(key, prepared);
    }
    const { result, translations } = hydrate(text, prepared);
    for (const [policyKey, t] of translations) compiler.seed(policyKey, t.digest, t.translation);
    return result;
  }

  /** Writes the cache (after a batch; at stop). */
  save(): Promise<void> {
    this.ready.clear();
    return this.options.cache.save();
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
    await this.save();
  }
}
