/**
 * The agent's desired-state sources: the file source from config plus any source the
 * agent adds (gRPC). Each is registered with the store before it starts, so nothing is
 * written to the driver until every enabled source has reported its first sync.
 */
import type { Clock } from '../clock/index.js';
import type { AgentConfig } from '../config/index.js';
import { fileSourceMetricsObserver, type AgentMetrics, type Logger } from '../observability/index.js';
import { FileSource } from '../sources/file/index.js';
import type { PolicySource, SourceDocument, SourceSink } from '../sources/types.js';
import type { DesiredStore } from '../store/index.js';
import type { Policy } from '../policy/index.js';

export interface AgentSourcesOptions {
  store: DesiredStore<Policy>;
  logger: Logger;
  clock: Clock;
  metrics: AgentMetrics;
}

export class AgentSources {
  private files: FileSource | undefined;
  private readonly extra: PolicySource[] = [];
  private readonly sink: SourceSink;
  private started = false;

  constructor(private readonly options: AgentSourcesOptions) {
    const { store, metrics, logger } = options;
    this.sink = {
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
      rejected: (source: string, origin: string, error: Error) => store.rejectUnit(source, origin, error),
    };
  }

  /** Register the sources the config enables, before anything may reconcile. */
  prepare(config: AgentConfig): void {
    if (config.sources.files.enabled) this.register('files');
  }

  /** A source beyond the config's file source (e.g. gRPC); registered at once. */
  add(source: PolicySource): void {
    this.extra.push(source);
    this.register(source.name);
  }

  async start(config: AgentConfig): Promise<void> {
    this.started = true;
    if (config.sources.files.enabled) this.files = this.createFileSource(config);
    const all = [...(this.files ? [this.files] : []), ...this.extra];
    await Promise.all(all.map((s) => s.start(this.sink)));
  }

  async reconfigure(config: AgentConfig): Promise<void> {
    if (!this.started) return;
    const files = config.sources.files;
    if (files.enabled && this.files) {
      await this.files.reconfigure({ paths: files.paths, debounceMs: files.debounceMs, maxFileBytes: files.maxFileBytes });
    } else if (files.enabled) {
      this.files = this.createFileSource(config);
      await this.files.start(this.sink);
    } else if (this.files) {
      // Disabling a source is an explicit choice: its policies go with it.
      await this.files.stop();
      this.files = undefined;
      this.options.logger.warn('file source disabled by config: its policies are withdrawn');
      this.options.store.dropSource('files');
    }
  }

  /** Rescan the file source now (SIGHUP, tests). */
  async rescan(): Promise<void> {
    await this.files?.rescan();
  }

  async stop(): Promise<void> {
    await Promise.all([...(this.files ? [this.files] : []), ...this.extra].map((s) => s.stop()));
  }

  private createFileSource(config: AgentConfig): FileSource {
    const files = config.sources.files;
    this.register('files');
    return new FileSource({
      name: 'files', paths: files.paths, debounceMs: files.debounceMs, maxFileBytes: files.maxFileBytes,
      clock: this.options.clock, logger: this.options.logger, observer: fileSourceMetricsObserver(this.options.metrics),
    });
  }

  private register(name: string): void {
    this.options.store.register(name);
    this.options.metrics.sourceInSync.set({ source: name }, 0);
  }
}
