/**
 * PolicyPreparer: the one way the agent turns a policy text into a parse result and its
 * translated rules. A text is looked up in the compile cache first (a restart with
 * nothing changed parses nothing); a batch of unknown texts (a cold start, a rescan) is
 * prepared in worker threads; a single text is prepared inline (lower latency than a
 * round trip to a worker). Whatever prepared it, the result is the same data, hydrated
 * the same way, and the compiler is seeded with the translations. The workers live while
 * batches come (and a moment after): each holds a V8 heap with the parser and the
 * schemas (tens of MB), which an agent at rest should not pay for.
 */
import type { PolicyCompiler } from './compiler.js';
import type { CompileCache } from './compile-cache.js';
import { PreparePool } from './prepare-pool.js';
import { hydrate, prepareText, preparedKey, type PreparedText } from './prepared.js';
import { translateFor } from './compiler.js';
import { POLICY_KINDS, type ParseResult, type PolicyKind } from './types.js';
import { PREPARED, type PrepareProgress } from '../store/index.js';
import { quickValidatorFor } from './schema.js';
import { nextTurn } from '../clock/index.js';

/** Below this many unknown texts a batch is prepared inline: a worker round trip would cost more. */
export const MIN_WORKER_BATCH = 16;
/** How long idle workers wait for another batch before they stop. */
const POOL_LINGER_MS = 200;
/** How long workers started ahead of a batch (`warm`) wait for one before they stop. */
export const POOL_WARM_WAIT_MS = 2000;

/** A small valid policy of a kind, in the block style policy files are written in (warmInline). */
export function warmUpText(kind: PolicyKind): string {
  const select = kind === 'KubeArmorHostPolicy' ? 'nodeSelector:\n    matchLabels:\n      kubernetes.io/os: windows'
    : kind === 'KubeArmorPolicy' ? 'selector:\n    matchLabels:\n      app: kawin-warm-up'
      : 'selector:\n    matchExpressions:\n      - key: namespace\n        operator: In\n        values:\n          - kawin-warm-up';
  const namespace = kind === 'KubeArmorPolicy' ? '\n  namespace: kawin-warm-up' : '';
  return `apiVersion: security.kubearmor.com/v1
kind: ${kind}
metadata:
  name: kawin-warm-up${namespace}
spec:
  ${select}
  severity: 5
  process:
    matchPaths:
      - path: C:\\Windows\\System32\\certutil.exe
  file:
    matchDirectories:
      - dir: C:\\ProgramData\\kawin-warm-up\\
        recursive: true
  action: Block
`;
}

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
  /** A worker could not lower its priority (told once per set of workers). */
  onWorkerPriorityError?: (error: string) => void;
}

export class PolicyPreparer {
  readonly counts: PrepareCounts = { cached: 0, prepared: 0, inline: 0, workerFailures: 0 };
  private pool: PreparePool | undefined;
  /** Batches in flight on `pool`. */
  private batches = 0;
  /** Prepared by workers, waiting for the synchronous `parse` of the same text. */
  private readonly ready = new Map<string, PreparedText>();
  /** The cache keys of a batch's texts (a key hashes the whole text), one per location, until its `parse`. */
  private readonly keys = new Map<string, { text: string; context: string; key: string }>();

  constructor(private readonly options: PreparerOptions) {}

  /**
   * Prepares, in worker threads, the texts of a batch that the cache does not hold; each
   * is ready (for `parse` to hydrate) as soon as its worker answers. If the workers fail,
   * every text is reported ready and `parse` prepares it on the calling thread. Batches
   * given while others are in flight share the workers; the workers stop when the last
   * batch is done.
   */
  prepareAll(texts: readonly { text: string; location: string }[]): PrepareProgress {
    const compiler = this.options.compiler();
    const contextKey = compiler.contextKey;
    const keys = texts.map((t) => {
      const key = preparedKey(t.text, t.location, contextKey);
      this.keys.set(t.location, { text: t.text, context: contextKey, key });
      return key;
    });
    const missing = texts.flatMap((t, i) => (this.options.cache.get(t.location, keys[i]!) ? [] : [i]));
    if (missing.length < MIN_WORKER_BATCH || (this.options.workers ?? 1) === 0) return PREPARED;
    const pool = (this.pool ??= new PreparePool(this.options.workers, this.options.onWorkerPriorityError));
    this.batches++;
    const pending = new Set(missing);
    const waiting = new Map<number, () => void>();
    const release = (i: number): void => {
      pending.delete(i);
      waiting.get(i)?.();
      waiting.delete(i);
    };
    // The context may change meanwhile: such results are simply never looked up.
    const done = pool.prepare(missing.map((i) => texts[i]!), compiler.translation, (j, prepared) => {
      const i = missing[j]!;
      this.ready.set(keys[i]!, prepared);
      this.counts.prepared++;
      release(i);
    }).catch(() => {
      this.counts.workerFailures++;
    }).finally(() => {
      for (const i of [...pending]) release(i);
      // A source reading its files in groups hands the next group soon: the workers wait a little for it.
      if (--this.batches === 0) this.lingerThenClose(pool, POOL_LINGER_MS);
    });
    return {
      ready: (i) => (pending.has(i) ? new Promise<void>((resolve) => waiting.set(i, resolve)) : Promise.resolve()),
      done,
    };
  }

  /**
   * Starts the workers ahead of a batch that is likely to come (the compile cache is
   * empty: a first start, or the first after an upgrade), so that their start-up (tens
   * of milliseconds of each thread's own) overlaps the scan and the first reads instead
   * of delaying the first batch. Unused, they stop after POOL_WARM_WAIT_MS.
   */
  warm(): void {
    if ((this.options.workers ?? 1) === 0 || this.pool) return;
    const pool = (this.pool = new PreparePool(this.options.workers, this.options.onWorkerPriorityError));
    this.lingerThenClose(pool, POOL_WARM_WAIT_MS);
  }

  /**
   * Stops the workers now unless a batch is in flight on them (the agent's initial sync is
   * done: workers started by `warm` for a batch that did not come, or lingering after the
   * last one, are not kept waiting). A later batch starts them again.
   */
  stopIdleWorkers(): void {
    if (this.pool) this.stopIfIdle(this.pool);
  }

  /**
   * Loads and compiles the inline path ahead of the first policy change: the first parse
   * on a thread loads the kind's schema validator and compiles the parser and translator,
   * 15-25 ms in one turn where the next parse of the same text takes 2-4. A warm restart
   * (or a cold start, parsed in workers) parses nothing on this thread, so without this
   * the first change after it pays that in one turn. A sample policy of each kind is
   * parsed, a step a turn (its validator loaded, then compiled, then the text parsed);
   * the results are dropped: nothing is cached, counted or seeded. `stopped()`: stop
   * early (the agent stops).
   */
  async warmInline(stopped: () => boolean = () => false): Promise<void> {
    for (const kind of POLICY_KINDS) {
      await nextTurn();
      if (stopped()) return;
      const validate = quickValidatorFor(kind);
      await nextTurn();
      if (stopped()) return;
      // Refused at once, but compiled whole: V8 compiles a function at its first call.
      validate({});
      await nextTurn();
      if (stopped()) return;
      prepareText(warmUpText(kind), '(warm-up)', translateFor(this.options.compiler().translation));
    }
  }

  /** Worker threads running now (0 when they have stopped). */
  get running(): number {
    return this.pool?.size ?? 0;
  }

  /** The parse result of one text (cache, worker result or inline), with the compiler seeded. */
  parse(text: string, location: string): ParseResult {
    const compiler = this.options.compiler();
    const key = this.keyOf(text, location, compiler.contextKey);
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

  /** Closes `pool` after `ms` unless a batch is then in flight on it. */
  private lingerThenClose(pool: PreparePool, ms: number): void {
    setTimeout(() => this.stopIfIdle(pool), ms).unref();
  }

  /** Closes `pool` if it is still the workers' and no batch is in flight on it. */
  private stopIfIdle(pool: PreparePool): void {
    if (this.batches > 0 || this.pool !== pool) return;
    this.pool = undefined;
    void pool.close();
  }

  private keyOf(text: string, location: string, context: string): string {
    const known = this.keys.get(location);
    this.keys.delete(location);
    return known?.text === text && known.context === context ? known.key : preparedKey(text, location, context);
  }

  /** Writes the cache (after a batch; at stop). */
  save(): Promise<void> {
    this.ready.clear();
    this.keys.clear();
    return this.options.cache.save();
  }

  async close(): Promise<void> {
    await this.pool?.close();
    this.pool = undefined;
    await this.save();
  }
}
