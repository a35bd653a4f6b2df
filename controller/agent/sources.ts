/**
 * The agent's desired-state sources: the file and CRD sources from config plus any source
 * the agent adds (gRPC). Each is registered with the store before it starts, so nothing is
 * written to the driver until every enabled source has reported its first sync.
 */
import type { Clock } from '../clock/index.js';
import type { AgentConfig } from '../config/index.js';
import { fileSourceMetricsObserver, type AgentMetrics, type Logger } from '../observability/index.js';
import { CrdSource, CRD_SOURCE } from '../sources/crd/index.js';
import { FileSource } from '../sources/file/index.js';
import type { PolicyOutcome, PolicySource, PolicyValidator, SourceDocument, SourceSink } from '../sources/types.js';
import type { DesiredStore, PolicyIdentity } from '../store/index.js';
import type { Policy } from '../policy/index.js';

export interface AgentSourcesOptions {
  store: DesiredStore<Policy>;
  logger: Logger;
  clock: Clock;
  metrics: AgentMetrics;
  validate: PolicyValidator;
  /** Labels learnt from the cluster (the CRD source's Node watch). */
  setNodeLabels(labels: Record<string, string>): void;
}

export class AgentSources {
  private files: FileSource | undefined;
  private crd: CrdSource | undefined;
  private crdSettings = '';
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
      rejected: (source: string, origin: string, error: Error) => {
        store.rejectUnit(source, origin, error);
        logger.warn('policy file rejected: its previous version stays in force', { source, origin, error: error.message });
      },
    };
  }

  /** Register the sources the config enables, before anything may reconcile. */
  prepare(config: AgentConfig): void {
    if (config.sources.files.enabled) this.register('files');
    if (config.sources.crd.enabled) this.register(CRD_SOURCE);
  }

  /** A source beyond the config's file source (e.g. gRPC); registered at once. */
  add(source: PolicySource): void {
    this.extra.push(source);
    this.register(source.name);
  }

  async start(config: AgentConfig): Promise<void> {
    this.started = true;
    if (config.sources.files.enabled) this.files = this.createFileSource(config);
    if (config.sources.crd.enabled) this.crd = this.createCrdSource(config);
    await Promise.all(this.all().map((s) => s.start(this.sink)));
  }

  /** Feedback for the sources that want it (the CRD source's Events). */
  observeOutcomes(source: string, outcomes: readonly PolicyOutcome[], removed: readonly PolicyIdentity[]): void {
    this.all().find((s) => s.name === source)?.observeOutcomes?.(outcomes, removed);
  }

  /** Names of the sources that take feedback. */
  observers(): string[] {
    return this.all().filter((s) => s.observeOutcomes).map((s) => s.name);
  }

  /** Why a running source is unhealthy beyond its sync state; undefined when all are fine. */
  unhealthy(): string | undefined {
    const problems = this.all().map((s) => s.unhealthy?.()).filter(Boolean);
    return problems.length ? problems.join('; ') : undefined;
  }

  async reconfigure(config: AgentConfig): Promise<void> {
    if (!this.started) return;
    await this.reconfigureCrd(config);
    const files = config.sources.files;
    if (files.enabled && this.files) {
      await this.files.reconfigure({
        paths: files.paths, debounceMs: files.debounceMs, maxFileBytes: files.maxFileBytes, rescanIntervalMs: files.rescanIntervalSeconds * 1000,
      });
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
    await Promise.all(this.all().map((s) => s.stop()));
  }

  private all(): PolicySource[] {
    return [...(this.files ? [this.files] : []), ...(this.crd ? [this.crd] : []), ...this.extra];
  }

  private async reconfigureCrd(config: AgentConfig): Promise<void> {
    const settings = JSON.stringify(config.sources.crd);
    if (settings === this.crdSettings) return;
    this.crdSettings = settings;
    if (config.sources.crd.enabled && this.crd) {
      await this.crd.configure(config);
    } else if (config.sources.crd.enabled) {
      this.crd = this.createCrdSource(config);
      await this.crd.start(this.sink);
    } else if (this.crd) {
      await this.crd.stop();
      this.crd = undefined;
      this.options.logger.warn('CRD source disabled by config: its policies are withdrawn');
      this.options.store.dropSource(CRD_SOURCE);
    }
  }

  private createCrdSource(config: AgentConfig): CrdSource {
    this.register(CRD_SOURCE);
    this.crdSettings = JSON.stringify(config.sources.crd);
    const { clock, logger, metrics, validate, setNodeLabels } = this.options;
    return new CrdSource({ config, clock, logger: logger.child({ source: CRD_SOURCE }), metrics, validate, setNodeLabels });
  }

  private createFileSource(config: AgentConfig): FileSource {
    const files = config.sources.files;
    this.register('files');
    return new FileSource({
      name: 'files', paths: files.paths, debounceMs: files.debounceMs, maxFileBytes: files.maxFileBytes, rescanIntervalMs: files.rescanIntervalSeconds * 1000,
      clock: this.options.clock, logger: this.options.logger, observer: fileSourceMetricsObserver(this.options.metrics),
    });
  }

  private register(name: string): void {
    this.options.store.register(name);
    this.options.metrics.sourceInSync.set({ source: name }, 0);
  }
}
