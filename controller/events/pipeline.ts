/**
 * The event pipeline: driver batches in, KubeArmor alerts, logs and SystemEvent
 * messages out to the sinks. The reader only enqueues (bounded, drop-oldest) and never
 * waits for the builder; the builder works in chunks and yields between them so the
 * reader and the sinks' I/O keep running.
 */
import type { Registry } from 'prom-client';
import type { HostEvent, HostEventBatch } from '../../driver/client/index.js';
import { RecordBuilder, type RecordBuilderOptions } from './build.js';
import { DropReporter } from './drops.js';
import type { Logger } from '../observability/index.js';
import { PipelineMetrics } from './metrics.js';
import { EventQueue } from './queue.js';
import { nextTurn, realClock, type Clock } from '../clock/index.js';
import type { EventSink } from './types.js';

export interface EventPipelineOptions extends RecordBuilderOptions {
  sinks: readonly EventSink[];
  registry: Registry;
  /** Capacity of the reader→builder queue in events (`events.queueSize`). */
  queueSize?: number;
  /** Events built per turn before yielding to I/O (at most; a turn also ends after `turnBudgetMs`). */
  chunkSize?: number;
  /** A turn of the builder ends after this many milliseconds: the bound on the main-thread stall it causes. */
  turnBudgetMs?: number;
  /** At most one drop announcement per this many milliseconds. */
  dropReportIntervalMs?: number;
  hostIP?: string;
  clock?: Clock;
  logger?: Logger;
}

export const PIPELINE_DEFAULTS = { queueSize: 65_536, chunkSize: 2048, turnBudgetMs: 5, dropReportIntervalMs: 5000 } as const;

/** Events built between two looks at the clock. */
const CLOCK_EVERY = 64;

export interface PipelineStats {
  received: number;
  alerts: number;
  logs: number;
  ignored: number;
  unsupported: number;
  dropped: { driver: number; pipeline: number };
  queued: number;
}

const ABORTED = Symbol('aborted');

/**
 * The next batch, or ABORTED as soon as `signal` aborts (even while the stream is
 * blocked). Not `Promise.race([next, aborted])` with one long-lived `aborted` promise:
 * every race leaves a reaction on it that holds the race's result, so each batch ever
 * read (about 600 bytes per event) stayed reachable until the signal fired.
 */
function nextOrAbort<T>(it: AsyncIterator<T>, signal?: AbortSignal): Promise<IteratorResult<T> | typeof ABORTED> {
  const next = it.next();
  if (!signal) return next;
  next.catch(() => undefined); // an abandoned read may reject later
  if (signal.aborted) return Promise.resolve(ABORTED);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(ABORTED);
    signal.addEventListener('abort', onAbort, { once: true });
    next.then(
      (r) => { signal.removeEventListener('abort', onAbort); resolve(r); },
      (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
    );
  });
}

export class EventPipeline {
  readonly builder: RecordBuilder;
  private readonly queue: EventQueue;
  private readonly drops: DropReporter;
  private readonly metrics: PipelineMetrics;
  private readonly sinks: readonly EventSink[];
  private readonly chunkSize: number;
  private readonly turnBudgetMs: number;
  private readonly logger: Logger | undefined;
  private scheduled = false;
  private readonly totals = { received: 0, alerts: 0, logs: 0, ignored: 0, unsupported: 0 };
  /** Counts not yet added to the prom-client counters (flushed once per turn). */
  private readonly pending = { received: 0, logs: 0, ignored: 0, unsupported: 0, sinkErrors: 0, Allow: 0, Audit: 0, Block: 0 };
  private readonly dropsSeen = { driver: 0, pipeline: 0 };
  /** Evictions of the driver client's NT→DOS path cache, reported with the batches. */
  private pathCacheEvictions = 0;

  constructor(o: EventPipelineOptions) {
    this.builder = new RecordBuilder(o);
    this.queue = new EventQueue(o.queueSize ?? PIPELINE_DEFAULTS.queueSize);
    this.sinks = o.sinks;
    this.chunkSize = o.chunkSize ?? PIPELINE_DEFAULTS.chunkSize;
    this.turnBudgetMs = o.turnBudgetMs ?? PIPELINE_DEFAULTS.turnBudgetMs;
    this.logger = o.logger;
    this.metrics = new PipelineMetrics(o.registry, () => this.queue.size);
    this.drops = new DropReporter({
      hostName: o.hostName, clusterName: o.clusterName, hostIP: o.hostIP ?? '', queueSize: this.queue.capacity,
      intervalMs: o.dropReportIntervalMs ?? PIPELINE_DEFAULTS.dropReportIntervalMs,
      clock: o.clock ?? realClock, sinks: o.sinks, logger: o.logger,
    });
  }

  /**
   * Consume batches until the stream ends or `signal` aborts (pass the same signal to
   * Driver.events()), then build what is still queued and announce pending losses.
   */
  async run(batches: AsyncIterable<HostEventBatch>, signal?: AbortSignal): Promise<void> {
    const it = batches[Symbol.asyncIterator]();
    try {
      for (;;) {
        const r = await nextOrAbort(it, signal);
        if (r === ABORTED || r.done) break;
        this.accept(r.value);
        // A stream with batches ready resolves at once: without this the loop would read
        // them all in microtasks, never letting the builder's turn (or any I/O) run.
        if (this.queue.size > 0) await nextTurn();
      }
    } finally {
      if (signal?.aborted) it.return?.().catch(() => undefined);
      await this.drain();
      this.drops.report(true);
      this.drops.stop();
    }
  }

  /** Take one batch from the driver: count, enqueue (dropping the oldest if full), schedule. */
  accept(batch: HostEventBatch): void {
    this.pending.received += batch.events.length;
    this.totals.received += batch.events.length;
    if (batch.dropped > 0n) this.drops.add('driver', Number(batch.dropped));
    this.pathCacheEvictions += batch.pathCacheEvictions;
    this.drops.add('pipeline', this.queue.push(batch.events));
    this.schedule();
  }

  stats(): PipelineStats {
    return { ...this.totals, dropped: { ...this.drops.total }, queued: this.queue.size };
  }

  /** Build everything queued, yielding between chunks. */
  async drain(): Promise<void> {
    while (this.queue.size > 0) {
      this.turn();
      await nextTurn();
    }
    this.flushMetrics();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.turn();
      if (this.queue.size > 0) this.schedule();
    });
  }

  private turn(): void {
    const until = performance.now() + this.turnBudgetMs;
    for (let i = 0; i < this.chunkSize; i++) {
      const ev = this.queue.shift();
      if (ev === undefined) break;
      this.dispatch(ev);
      if (i % CLOCK_EVERY === CLOCK_EVERY - 1 && performance.now() >= until) break;
    }
    this.flushMetrics();
    this.drops.report();
  }

  private dispatch(ev: HostEvent): void {
    const b = this.builder;
    const route = b.route(ev);
    try {
      if (route === 'alert') {
        this.totals.alerts++;
        if (!this.wanted('alert')) this.pending[b.enricher.enrich(ev.decision, ev.ruleId).action]++;
        else {
          const alert = b.alert(ev);
          this.pending[alert.Action as 'Allow' | 'Audit' | 'Block']++;
          for (const s of this.sinks) s.alert(alert);
        }
      } else if (route === 'log') {
        this.pending.logs++;
        this.totals.logs++;
        if (this.wanted('log')) {
          const log = b.log(ev);
          for (const s of this.sinks) s.log(log);
        }
      } else {
        this.pending[route === 'ignore' ? 'ignored' : 'unsupported']++;
        this.totals[route === 'ignore' ? 'ignored' : 'unsupported']++;
      }
    } catch (err) {
      this.pending.sinkErrors++;
      this.logger?.error('event sink failed', { err });
    }
    b.settle(ev);
  }

  /** Does any sink use records of this kind now? (Nobody watching: nothing to build.) */
  private wanted(kind: 'alert' | 'log'): boolean {
    for (const s of this.sinks) if (s.wants === undefined || s.wants(kind)) return true;
    return false;
  }

  private flushMetrics(): void {
    const p = this.pending;
    const m = this.metrics;
    if (p.received) m.received.inc(p.received);
    for (const action of ['Allow', 'Audit', 'Block'] as const) if (p[action]) m.alerts.inc({ action }, p[action]);
    if (p.logs) m.logs.inc(p.logs);
    if (p.ignored) m.ignored.inc({ reason: 'not_reported' }, p.ignored);
    if (p.unsupported) m.ignored.inc({ reason: 'unsupported_type' }, p.unsupported);
    if (p.sinkErrors) m.sinkErrors.inc(p.sinkErrors);
    for (const k of Object.keys(p) as (keyof typeof p)[]) p[k] = 0;
    this.flushDrops();
    this.flushBuilderCounts();
  }

  private flushDrops(): void {
    for (const stage of ['driver', 'pipeline'] as const) {
      const delta = this.drops.total[stage] - this.dropsSeen[stage];
      if (delta > 0) this.metrics.dropped.inc({ stage }, delta);
      this.dropsSeen[stage] = this.drops.total[stage];
    }
  }

  private flushBuilderCounts(): void {
    const b = this.builder;
    if (this.pathCacheEvictions) this.metrics.evictions.inc({ cache: 'pathCache' }, this.pathCacheEvictions);
    this.pathCacheEvictions = 0;
    const caches = { processTable: b.processes.images, sidCache: b.sids.cache };
    for (const [cache, map] of Object.entries(caches)) {
      if (map.evictions) this.metrics.evictions.inc({ cache }, map.evictions);
      map.evictions = 0;
    }
    if (b.enricher.unknownRules) this.metrics.unknownRules.inc(b.enricher.unknownRules);
    b.enricher.unknownRules = 0;
  }
}
