/**
 * The agent: the composition root. It builds the parts — desired store, compiler, policy
 * sources, driver link, reconcile controller, gRPC server, event pipeline — and adds each
 * long-running one to a Manager, in dependency order (policy preparer, sources, driver,
 * gRPC server, event pipeline, reconciler). Everything that reports on the agent reads through the narrow
 * views of ./views.ts; nothing outside reaches into its parts.
 */
import { createDriverBackend } from '../../driver/backends/index.js';
import type { Driver } from '../../driver/client/types.js';
import { realClock, type Clock } from '../clock/index.js';
import { changedFields, type AgentConfig } from '../config/index.js';
import { LogBroker, RequestGate, registerGateMetrics, registerLogMetrics } from '../grpc/index.js';
import { Manager, type Runnable } from '../manager/index.js';
import {
  createAgentMetrics, driverMetricsObserver, planConnections, workQueueMetricsObserver,
  type AgentMetrics, type ConnectionBudget, type HealthStatus, type Logger, type Readiness,
} from '../observability/index.js';
import { CompileCache, NodeRuleSet, PolicyPreparer, type Policy } from '../policy/index.js';
import { Reconciler } from '../reconcile/index.js';
import { DesiredStore, LastAppliedFile, loggingStoreObserver } from '../store/index.js';
import { AgentAdmin } from './admin.js';
import { ReconcileController } from './controller.js';
import { driverConfigOf } from './driver-config.js';
import { DriverLink } from './driver-link.js';
import { reconcileMetrics } from './metrics-binding.js';
import { PolicyFlow, PreparerRunnable, policyParser, policyValidator } from './policies.js';
import { GrpcServerRunnable, PipelineRunnable } from './services.js';
import { AgentSources } from './sources.js';
import { AgentStateProvider, probeProvider } from './state-events.js';
import { countByState, policyStatuses, rejectedUnitsBySource } from './status.js';
import { SourceFeedback } from './feedback.js';
import { AGENT_VERSION } from './version.js';
import type { AgentView } from './views.js';

/** Config fields bound to resources at start: a change is reported, applied at the next start. */
const RESTART_FIELDS = ['driver', 'grpc', 'metrics', 'reservedDescriptors', 'stateDir', 'outputs', 'events', 'hostName', 'clusterName'];
/** How long one part may take to stop before shutdown moves on. */
export const STOP_DEADLINE_MS = 10_000;

export interface AgentOptions {
  config: AgentConfig;
  logger: Logger;
  clock?: Clock;
  metrics?: AgentMetrics;
}

/** The driver link as a runnable: nothing to start (reconciles connect), closed last of the driver users. */
class DriverRunnable implements Runnable {
  readonly name = 'driver';
  constructor(private readonly link: DriverLink) {}
  /**
   * Connects now, without waiting: the connection (loading the driver, its drive map) then
   * overlaps with reading the policies, and each rule is admitted as its policy arrives.
   * A failure here is met again, and reported, by the first reconcile pass.
   */
  start(): Promise<void> {
    this.link.ensure().catch(() => undefined);
    return Promise.resolve();
  }

  stop(): Promise<void> { return this.link.close(); }
  ready(): HealthStatus { return this.link.current ? { ok: true } : { ok: false, reason: 'driver not connected' }; }
}

export class Agent {
  readonly metrics: AgentMetrics;
  readonly view: AgentView;
  readonly manager: Manager;
  /** The gRPC and HTTP connection bounds, fitted to the descriptor limit. */
  readonly connections: ConnectionBudget;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly store: DesiredStore<Policy>;
  private readonly rules: NodeRuleSet;
  private readonly preparer: PreparerRunnable;
  private readonly reconciler: Reconciler;
  private readonly link: DriverLink;
  private readonly controller: ReconcileController;
  private readonly lastApplied: LastAppliedFile;
  private saving: Promise<void> = Promise.resolve();
  /** The store's change count when the policies in force were last persisted (-1: never). */
  private persistedChanges = -1;
  private readonly flow: PolicyFlow;
  private readonly sources: AgentSources;
  private readonly stateEvents: AgentStateProvider;
  private readonly feedback = new SourceFeedback();
  private readonly grpc: GrpcServerRunnable;
  private readonly pipeline: PipelineRunnable;
  private readonly startedAt: Date;
  private currentConfig: AgentConfig;
  private portHeld = false;
  private learntLabels: Record<string, string> = {};

  constructor(options: AgentOptions) {
    const { config, logger } = options;
    this.currentConfig = config;
    this.logger = logger;
    this.clock = options.clock ?? realClock;
    // On the same clock as `now()`: uptime and the initial sync duration subtract one from the other.
    this.startedAt = new Date(this.clock.now());
    this.metrics = options.metrics ?? createAgentMetrics({ version: AGENT_VERSION, node: config.hostName });
    this.manager = new Manager({ logger, clock: this.clock, stopDeadlineMs: STOP_DEADLINE_MS });
    this.connections = planConnections(config, this.metrics.registry, logger);
    const backend = createDriverBackend(config.driver);
    this.rules = new NodeRuleSet({ flavor: backend.flavor, nodeLabels: config.nodeLabels, environment: backend.environment() });
    const cache = new CompileCache(CompileCache.fileIn(config.stateDir), AGENT_VERSION);
    const onWorkerPriorityError = (error: string): void => logger.warn('a policy prepare worker runs at normal priority: it could not lower its own', { error });
    const preparer = new PolicyPreparer({ compiler: () => this.rules.compiler, cache, onWorkerPriorityError });
    this.preparer = new PreparerRunnable(preparer, cache, logger);
    this.store = new DesiredStore(
      policyParser(() => this.rules.compiler, (text, location) => preparer.parse(text, location)),
      config.sources.precedence,
      {
        preparer: (texts) => preparer.prepareAll(texts),
        observer: loggingStoreObserver(logger.child({ component: 'store' })),
        // The flow is built below (it needs the reconciler, which reads the store); no change comes before start.
        listener: { policyChanged: (key, entry) => this.flow.policyChanged(key, entry), statusChanged: () => this.flow.statusChanged() },
      },
    );
    this.reconciler = new Reconciler({
      desired: {
        // The driver's single event-port connection marks the one agent in charge: no write before holding it.
        ready: () => this.store.ready() && this.portHeld,
        waitingFor: () => [...this.store.waitingFor(), ...(this.portHeld ? [] : ['the driver event port'])],
        driverConfig: () => driverConfigOf(this.currentConfig, backend.flavor),
        rules: () => this.rules.rules(),
      },
      metrics: reconcileMetrics(this.metrics),
      logger: logger.child({ component: 'reconciler' }),
    });
    this.link = this.createLink(backend);
    this.lastApplied = new LastAppliedFile(config.stateDir, logger.child({ component: 'store' }));
    this.controller = new ReconcileController({
      reconciler: this.reconciler, link: this.link, clock: this.clock, logger, config: () => this.currentConfig,
      queueObserver: workQueueMetricsObserver(this.metrics, 'reconcile'), startedAt: this.startedAt,
      observer: {
        reconciled: () => this.reconciled(),
        firstApplied: (seconds) => {
          this.metrics.initialSyncDuration.set(seconds);
          // Written after the first apply, so the write never delays it.
          void this.preparer.initialSyncDone();
          logger.info('initial sync done: the driver enforces the desired policies', {
            seconds, rules: this.reconciler.rulesApplied, generation: String(this.reconciler.appliedGeneration),
          });
        },
      },
    });
    this.flow = new PolicyFlow({
      rules: this.rules, reconciler: this.reconciler, trigger: () => this.controller.trigger(),
      observer: { policyChanged: (key, entry) => this.stateEvents.policyChanged(key, entry) },
    });
    this.view = this.createView();
    this.sources = new AgentSources({
      store: this.store, manager: this.manager,
      context: {
        clock: this.clock, logger, metrics: this.metrics, validate: policyValidator(this.store),
        setNodeLabels: (labels) => this.setNodeLabels(labels),
      },
    });
    const broker = new LogBroker({
      queueSize: config.grpc.subscriberQueueSize, queueBytes: config.grpc.subscriberQueueBytes, maxSubscribers: config.grpc.maxSubscribers,
      notice: { hostName: config.hostName, clusterName: config.clusterName }, logger: logger.child({ component: 'grpc' }),
    });
    registerLogMetrics(broker, this.metrics.registry);
    const diffs = new RequestGate('DiffPolicies', config.grpc.maxConcurrentDiffs, 'grpc.maxConcurrentDiffs');
    registerGateMetrics([diffs], this.metrics.registry);
    this.stateEvents = new AgentStateProvider(this.view, this.clock);
    const admin = new AgentAdmin(this.view, () => this.sources.list(), () => broker.subscriberCount());
    this.grpc = new GrpcServerRunnable({
      config, clock: this.clock, logger: logger.child({ component: 'grpc' }), broker, state: this.stateEvents, probe: probeProvider(this.view), admin, diffs, sources: () => this.sources.list(),
      connections: this.connections.grpc, registry: this.metrics.registry,
    });
    this.pipeline = new PipelineRunnable({ config, logger, metrics: this.metrics, broker, link: this.link, provenance: this.rules });
    // Policies by state are derived when Prometheus scrapes, never on the reconcile path.
    this.metrics.onCollectPolicies(() => countByState(policyStatuses(this.view)));
    this.metrics.onCollectRejected(() => ({ units: rejectedUnitsBySource(this.view), conflicts: this.store.conflicts().length }));
  }

  get config(): AgentConfig { return this.currentConfig; }
  /** The gRPC address actually bound (host:port). */
  get grpcAddress(): string | undefined { return this.grpc.address; }
  /** Rejects when the driver's event stream fails for good (the process must stop). */
  get fatal(): Promise<never> { return this.pipeline.fatal; }
  get eventPipeline(): PipelineRunnable['pipeline'] { return this.pipeline.pipeline; }
  /** How policy texts were parsed: from the compile cache, in workers, inline. */
  get parseCounts(): PolicyPreparer['counts'] { return this.preparer.counts; }

  /** Add every part to the manager (in dependency order) and start them. */
  async start(): Promise<void> {
    await this.manager.add(this.preparer);
    // Before any source reports: a unit broken at start-up keeps what was applied before.
    this.store.restore(await this.lastApplied.load());
    await this.manager.add(new DriverRunnable(this.link));
    await this.sources.ensure(this.currentConfig);
    await this.manager.add(this.grpc);
    await this.manager.add(this.pipeline);
    await this.manager.add(this.controller);
    await this.manager.start();
  }

  async stop(): Promise<void> {
    this.stateEvents.close();
    await this.manager.stop();
    await this.saving;
  }

  /** What the driver now enforces, per policy, for last-known-good after a restart. */
  private persistApplied(): void {
    const snapshot = this.store.snapshot();
    this.saving = this.saving.then(() => this.lastApplied.save(snapshot)).catch((error: unknown) => {
      this.logger.error('cannot persist the last-applied policies: a restart may lose last-known-good', { file: this.lastApplied.path, error: (error as Error).message });
    });
  }

  readiness(): Readiness { return this.manager.readiness(); }

  /** Apply a new, valid config live. Returns the fields that changed. */
  async reconfigure(next: AgentConfig): Promise<string[]> {
    const changed = changedFields(this.currentConfig, next);
    const needRestart = changed.filter((f) => RESTART_FIELDS.some((r) => f === r || f.startsWith(`${r}.`)));
    if (needRestart.length) this.logger.warn('config fields changed that apply at the next start', { fields: needRestart });
    this.currentConfig = next;
    if (changed.some((f) => f.startsWith('nodeLabels') || f.startsWith('hostName'))) this.reselect();
    if (changed.some((f) => f.startsWith('sources'))) await this.sources.reconfigure(next);
    this.pipeline.reconfigure(next);
    this.controller.reconfigure(next, changed.some((f) => f.startsWith('reconcile.resync')));
    return changed;
  }

  /** Resolves once nothing is queued or running (tests, benchmarks). */
  whenIdle(): Promise<void> { return this.controller.whenIdle(); }
  /** Ask for a full read-back and reconcile now (drift check). */
  resyncNow(): void { this.controller.resyncNow(); }
  /** Rescan the sources that can (SIGHUP, tests). */
  rescan(): Promise<void> { return this.sources.rescan(); }

  private setNodeLabels(labels: Record<string, string>): void {
    this.learntLabels = { ...labels };
    this.reselect();
  }

  /** Node labels changed: every policy is selected and compiled again. */
  private reselect(): void {
    this.flow.reconfigure({ nodeLabels: { ...this.learntLabels, ...this.currentConfig.nodeLabels } });
  }

  private reconciled(): void {
    this.stateEvents.reconciled();
    // Persisted once per change of the policies in force (not at every idle pass: a
    // snapshot of a thousand policies is milliseconds of the main thread).
    if (this.reconciler.inSync && this.store.changeCount !== this.persistedChanges) {
      this.persistedChanges = this.store.changeCount;
      this.persistApplied();
    }
    this.feedback.deliver(this.sources.list(), () => policyStatuses(this.view), this.currentConfig.sources.precedence);
  }

  private createView(): AgentView {
    const { store, rules, reconciler, link, controller, clock } = this;
    return {
      config: () => this.currentConfig,
      startedAt: this.startedAt,
      now: () => clock.now(),
      desired: store,
      rules: {
        status: (key) => rules.status(key),
        rules: () => rules.rules(),
        lookup: (id) => rules.lookup(id),
        compile: (policy) => rules.compiler.compile(policy),
      },
      driver: {
        kind: link.kind,
        get connected() { return link.current !== undefined; },
        get inSync() { return reconciler.inSync; },
        get appliedGeneration() { return reconciler.appliedGeneration; },
        get rulesApplied() { return reconciler.rulesApplied; },
        get state() { return reconciler.driverState; },
        refusal: (ruleId) => reconciler.refusal(ruleId),
      },
      reconcile: controller,
      ready: () => this.manager.readiness().ok,
    };
  }

  private createLink(backend: ReturnType<typeof createDriverBackend>): DriverLink {
    const observer = driverMetricsObserver(this.metrics);
    return new DriverLink({
      backend,
      timers: this.clock,
      logger: this.logger.child({ component: 'driver' }),
      observer: {
        ...observer,
        portConnected: (connected) => {
          observer.portConnected?.(connected);
          this.portHeld = connected;
          // A port that comes back may mean a reloaded driver: read the table back.
          if (connected) this.controller.resyncNow();
        },
      },
      connected: (driver: Driver) => {
        this.portHeld = false;
        this.metrics.driverUp.set(1);
        this.reconciler.attach(driver);
      },
      disconnected: () => {
        this.metrics.driverUp.set(0);
        this.reconciler.attach(undefined);
      },
    });
  }
}
