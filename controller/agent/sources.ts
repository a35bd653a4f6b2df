/**
 * The agent's policy sources: one per registered kind the config enables
 * (controller/sources/registry.ts), each a runnable of the manager — added before start or
 * after it (a kind enabled by a live config change starts at once). The sink binds a
 * source's reports to the desired store, its metrics and the log.
 */
import type { AgentConfig } from '../config/index.js';
import type { Manager, Runnable } from '../manager/index.js';
import type { HealthStatus } from '../observability/index.js';
import type { Policy } from '../policy/index.js';
import { SOURCE_KINDS } from '../sources/registry.js';
import type { PolicySource, SourceContext, SourceDocument, SourceSink } from '../sources/types.js';
import type { DesiredStore } from '../store/index.js';

export interface AgentSourcesOptions {
  store: DesiredStore<Policy>;
  manager: Manager;
  /** Everything a factory is given except the config, which is read at creation. */
  context: Omit<SourceContext, 'config'>;
}

/** One source as a runnable: readiness is "in sync" and whatever the source adds. */
class SourceRunnable implements Runnable {
  readonly name: string;
  constructor(readonly source: PolicySource, private readonly sink: SourceSink, private readonly store: DesiredStore<Policy>) {
    this.name = `source:${source.name}`;
  }
  start(): Promise<void> { return this.source.start(this.sink); }
  stop(): Promise<void> { return this.source.stop(); }
  ready(): HealthStatus {
    const status = this.store.sourceStatus().find((s) => s.name === this.source.name);
    if (!status?.inSync) return { ok: false, reason: status?.error ? `not in sync: ${status.error}` : 'not in sync' };
    const unhealthy = this.source.unhealthy?.();
    return unhealthy ? { ok: false, reason: unhealthy } : { ok: true };
  }
}

export class AgentSources {
  private readonly running = new Map<string, SourceRunnable>();
  private readonly sink: SourceSink;
  private changing: Promise<void> = Promise.resolve();

  constructor(private readonly options: AgentSourcesOptions) {
    const { store, context: { metrics, logger } } = options;
    this.sink = {
      prepare: (source: string, docs: readonly SourceDocument[]) => store.prepare(source, docs),
      upsert: (source: string, doc: SourceDocument) => store.upsert(source, doc),
      remove: (source: string, origin: string) => store.remove(source, origin),
      synced: (source: string, revision: string) => {
        store.synced(source, revision);
        metrics.sourceInSync.set({ source }, 1);
        metrics.setSourceRevision(source, revision);
      },
      failed: (source: string, error: Error) => {
        store.failed(source, error);
        metrics.sourceInSync.set({ source }, 0);
        logger.error('policy source failed: what it contributed stays in force', { source, error: error.message });
      },
      // Logged by the store, as every unit it cannot use.
      rejected: (source: string, origin: string, error: Error) => store.rejected(source, origin, error),
    };
  }

  /** The running sources (for capabilities: services, documents, deletion, feedback). */
  list(): PolicySource[] { return [...this.running.values()].map((r) => r.source); }

  /** Create (and add to the manager) every kind the config enables and that is not running yet. */
  ensure(config: AgentConfig): Promise<void> {
    return this.serially(() => this.ensureNow(config));
  }

  /** A new valid config: sources follow it; newly enabled kinds start; disabled kinds are withdrawn. */
  reconfigure(config: AgentConfig): Promise<void> {
    return this.serially(async () => {
      for (const kind of SOURCE_KINDS) {
        const runnable = this.running.get(kind.kind);
        if (runnable && !kind.enabled(config)) await this.withdraw(kind.kind, runnable);
        else if (runnable) await runnable.source.configure?.(config);
      }
      await this.ensureNow(config);
    });
  }

  /** One change at a time: a factory may be async (it imports its kind), and two must not create the same kind. */
  private serially(change: () => Promise<void>): Promise<void> {
    const next = this.changing.then(change);
    this.changing = next.catch(() => undefined);
    return next;
  }

  private async ensureNow(config: AgentConfig): Promise<void> {
    for (const kind of SOURCE_KINDS) {
      if (!kind.enabled(config) || this.running.has(kind.kind)) continue;
      const source = await kind.create({ ...this.options.context, config });
      // Registered with the store first: nothing is written before its first sync.
      this.options.store.register(source.name);
      this.options.context.metrics.sourceInSync.set({ source: source.name }, 0);
      const runnable = new SourceRunnable(source, this.sink, this.options.store);
      this.running.set(kind.kind, runnable);
      await this.options.manager.add(runnable);
    }
  }

  /** Rescan every source that can (SIGHUP, tests). */
  async rescan(): Promise<void> {
    await Promise.all(this.list().map((s) => s.rescan?.()));
  }

  /** Disabling a source is an explicit choice: its policies go with it. */
  private async withdraw(kind: string, runnable: SourceRunnable): Promise<void> {
    await this.options.manager.remove(runnable);
    this.running.delete(kind);
    this.options.context.logger.warn('policy source disabled by config: its policies are withdrawn', { source: runnable.source.name });
    this.options.store.dropSource(runnable.source.name);
  }
}
