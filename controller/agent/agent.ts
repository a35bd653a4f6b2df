/**
 * The agent: wires desired state (sources → store → compiler) to actual state (the
 * driver) through one level-based reconcile loop, and the driver's events out to
 * subscribers. Every trigger — a policy change, a source sync, a driver reconnect, the
 * periodic resync — only marks the single key `driver` dirty; the work queue coalesces
 * them and retries failures with per-key exponential backoff.
 */
import type { Driver } from '../../driver/client/types.js';
import { realClock, type Clock, type TimerHandle } from '../clock/index.js';
import { changedFields, type AgentConfig } from '../config/index.js';
import {
  HealthChecks, createAgentMetrics, driverMetricsObserver, workQueueMetricsObserver,
  type AgentMetrics, type Logger, type RootLogger,
} from '../observability/index.js';
import { NodeRuleSet, type Policy } from '../policy/index.js';
import { WorkQueue, runWorkers } from '../queue/index.js';
import { Reconciler, type ReconcileResult } from '../reconcile/index.js';
import { DesiredStore } from '../store/index.js';
import { DriverLink } from './driver-link.js';
import { PolicyFlow, policyParser, storeValidator } from './policies.js';
import { reconcileMetrics } from './metrics-binding.js';
import { AgentSources } from './sources.js';
import { driverConfigOf, flavorOf, nodeEnvironment } from './driver-config.js';

export const AGENT_VERSION = '0.1.0';
const DRIVER_KEY = 'driver';
/**
 * How often the agent asks the driver for its state (one cheap GET_STATE) between full
 * resyncs: a reloaded driver or a table changed behind the agent's back shows as a
 * generation or rule count it did not write, and triggers a read-back at once.
 */
export const DRIVER_WATCH_INTERVAL_MS = 1000;
/** Config fields bound to resources at start: a change is reported, applied at the next start. */
const RESTART_FIELDS = ['driver', 'grpc', 'metrics', 'stateDir', 'outputs', 'events', 'hostName', 'clusterName'];
const RESYNC_KEY = 'resync';

/** The root logger; `reconfigure` (format, file) is optional so tests can pass a memory logger. */
export type AgentLogger = Logger & Partial<Pick<RootLogger, 'reconfigure'>>;

export interface AgentOptions {
  config: AgentConfig;
  logger: AgentLogger;
  clock?: Clock;
  metrics?: AgentMetrics;
}

export interface ReconcileRecord {
  time: Date;
  result?: ReconcileResult;
  error?: string;
}

export class Agent {
  readonly metrics: AgentMetrics;
  readonly health = new HealthChecks();
  readonly store: DesiredStore<Policy>;
  readonly rules: NodeRuleSet;
  readonly reconciler: Reconciler;
  readonly link: DriverLink;
  readonly startedAt = new Date();
  lastReconcile: ReconcileRecord | undefined;
  firstApplyDone = false;
  private readonly queue: WorkQueue<string>;
  private readonly flow: PolicyFlow;
  private readonly sources: AgentSources;
  private readonly clock: Clock;
  private workers: Promise<void> | undefined;
  private watchTimer: TimerHandle | undefined;
  private stopped = false;
  private portHeld = false;
  private currentConfig: AgentConfig;
  private readonly connectedHooks: ((driver: Driver) => void)[] = [];
  private readonly reconciledHooks: (() => void)[] = [];
  private readonly reconfiguredHooks: ((config: AgentConfig) => void)[] = [];
  /** The Node object's labels (CRD source), merged over the config's. */
  private clusterNodeLabels: Record<string, string> = {};

  constructor(private readonly options: AgentOptions) {
    const { config, logger } = options;
    this.currentConfig = config;
    this.clock = options.clock ?? realClock;
    this.metrics = options.metrics ?? createAgentMetrics({ version: AGENT_VERSION, node: config.hostName });
    this.queue = new WorkQueue<string>({
      clock: this.clock, backoff: config.reconcile.backoff, observer: workQueueMetricsObserver(this.metrics, 'reconcile'),
    });
    this.rules = new NodeRuleSet({ flavor: flavorOf(config), nodeLabels: config.nodeLabels, environment: nodeEnvironment(config) });
    this.store = new DesiredStore(policyParser(() => this.rules.compiler), config.sources.precedence);
    this.reconciler = new Reconciler({
      desired: {
        // The driver's single event-port connection marks the one agent in charge: no write before holding it.
        ready: () => this.store.ready() && this.portHeld,
        waitingFor: () => [...this.store.waitingFor(), ...(this.portHeld ? [] : ['the driver event port'])],
        driverConfig: () => driverConfigOf(this.currentConfig),
        rules: () => this.rules.rules(),
      },
      metrics: reconcileMetrics(this.metrics),
      logger: logger.child({ component: 'reconciler' }),
    });
    this.flow = new PolicyFlow({ rules: this.rules, reconciler: this.reconciler, trigger: () => this.queue.add(DRIVER_KEY) });
    this.store.setListener(this.flow);
    this.link = this.createLink();
    this.sources = new AgentSources({
      store: this.store, logger, clock: this.clock, metrics: this.metrics, validate: storeValidator(this.store),
      setNodeLabels: (labels) => this.setClusterNodeLabels(labels),
    });
    this.sources.prepare(config);
    this.registerHealth();
  }

  get config(): AgentConfig { return this.currentConfig; }
  get logger(): AgentLogger { return this.options.logger; }

  /** Called after every reconcile pass, successful or not (status, metrics, state events). */
  onReconciled(hook: () => void): void { this.reconciledHooks.push(hook); }

  /** Called with every valid config applied live (services follow what concerns them). */
  onReconfigured(hook: (config: AgentConfig) => void): void { this.reconfiguredHooks.push(hook); }

  /** The next driver connection (undefined if `signal` aborts first). */
  nextDriver(signal: AbortSignal): Promise<Driver | undefined> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(undefined);
      const hook = (driver: Driver): void => {
        this.connectedHooks.splice(this.connectedHooks.indexOf(hook), 1);
        resolve(driver);
      };
      this.connectedHooks.push(hook);
      signal.addEventListener('abort', () => {
        const i = this.connectedHooks.indexOf(hook);
        if (i >= 0) this.connectedHooks.splice(i, 1);
        resolve(undefined);
      }, { once: true });
    });
  }

  async start(): Promise<void> {
    this.workers = runWorkers(this.queue, (key) => this.reconcileKey(key), {
      onError: (key, error, retryInMs) => this.logger.warn('reconcile will be retried', {
        key, error: (error as Error).message, retryInMs,
      }),
    });
    this.queue.add(DRIVER_KEY);
    this.scheduleResync();
    this.watchDriver();
    await this.sources.start(this.currentConfig);
  }

  /** The agent's sources: services add theirs (gRPC) here before start. */
  get sourceSet(): AgentSources { return this.sources; }

  /** Apply a new, valid config live. Returns the fields that changed. */
  async reconfigure(next: AgentConfig): Promise<string[]> {
    const previous = this.currentConfig;
    const changed = changedFields(previous, next);
    const needRestart = changed.filter((f) => RESTART_FIELDS.some((r) => f === r || f.startsWith(`${r}.`)));
    if (needRestart.length) this.logger.warn('config fields changed that apply at the next start', { fields: needRestart });
    this.currentConfig = next;
    if (this.logger.reconfigure) this.logger.reconfigure({ level: next.logging.level, format: next.logging.format, file: next.logging.file });
    else this.logger.setLevel(next.logging.level);
    this.queue.setBackoff(next.reconcile.backoff);
    if (changed.some((f) => f.startsWith('nodeLabels') || f.startsWith('hostName'))) {
      this.flow.reconfigure({ nodeLabels: this.nodeLabels });
    }
    if (changed.some((f) => f.startsWith('sources'))) await this.sources.reconfigure(next);
    if (changed.some((f) => f.startsWith('reconcile.resync'))) this.scheduleResync();
    for (const hook of this.reconfiguredHooks) hook(next);
    this.queue.add(DRIVER_KEY);
    return changed;
  }

  /** The labels host policies select on: the config's, with the Node object's over them. */
  get nodeLabels(): Record<string, string> {
    return { ...this.currentConfig.nodeLabels, ...this.clusterNodeLabels };
  }

  private setClusterNodeLabels(labels: Record<string, string>): void {
    this.clusterNodeLabels = labels;
    this.flow.reconfigure({ nodeLabels: this.nodeLabels });
  }

  /** Let an in-flight apply finish, then stop reconciling and release the driver. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.watchTimer) this.clock.clearTimeout(this.watchTimer);
    await this.sources.stop();
    this.queue.shutDown();
    await this.workers;
    await this.link.close();
  }

  /** Resolves once nothing is queued or running (tests, benchmarks). */
  whenIdle(): Promise<void> { return this.queue.whenIdle(); }

  /** Ask for a full read-back and reconcile now (drift check). */
  resyncNow(): void {
    this.reconciler.requestReadBack();
    this.queue.add(DRIVER_KEY);
  }

  private async reconcileKey(key: string): Promise<{ requeueAfterMs?: number } | void> {
    if (key === RESYNC_KEY) {
      this.reconciler.requestReadBack();
      this.queue.add(DRIVER_KEY);
      return { requeueAfterMs: this.resyncDelay() };
    }
    try {
      await this.link.ensure();
      const result = await this.reconciler.reconcile();
      this.lastReconcile = { time: new Date(this.clock.now()), result };
      if (result.outcome !== 'waiting' && !this.firstApplyDone) this.firstApplied();
    } catch (error) {
      this.lastReconcile = { time: new Date(this.clock.now()), error: (error as Error).message };
      await this.link.failed(error);
      throw error;
    } finally {
      for (const hook of this.reconciledHooks) hook();
    }
  }

  private watchDriver(): void {
    this.watchTimer = this.clock.setTimeout(() => {
      void this.checkDriver().finally(() => { if (!this.stopped) this.watchDriver(); });
    }, DRIVER_WATCH_INTERVAL_MS);
  }

  private async checkDriver(): Promise<void> {
    const driver = this.link.current;
    const applied = this.reconciler.appliedGeneration;
    if (!driver || applied === undefined) return;
    try {
      const state = await driver.getState();
      if (state.generation === applied && state.ruleCount === this.reconciler.rulesApplied) return;
      this.logger.warn('the driver table changed behind the agent: reading it back', {
        generation: String(state.generation), expected: String(applied), rules: state.ruleCount,
      });
    } catch (error) {
      await this.link.failed(error);
    }
    this.resyncNow();
  }

  private firstApplied(): void {
    this.firstApplyDone = true;
    const seconds = (this.clock.now() - this.startedAt.getTime()) / 1000;
    this.metrics.initialSyncDuration.set(seconds);
    this.logger.info('initial sync done: the driver enforces the desired policies', {
      seconds, rules: this.reconciler.rulesApplied, generation: String(this.reconciler.appliedGeneration),
    });
  }

  private createLink(): DriverLink {
    const observer = driverMetricsObserver(this.metrics);
    return new DriverLink({
      config: () => this.currentConfig,
      logger: this.logger.child({ component: 'driver' }),
      observer: {
        ...observer,
        portConnected: (connected) => {
          observer.portConnected?.(connected);
          this.portHeld = connected;
          // A port that comes back may mean a reloaded driver: read the table back.
          if (connected) this.resyncNow();
        },
      },
      connected: (driver) => {
        this.portHeld = false;
        this.metrics.driverUp.set(1);
        this.reconciler.attach(driver);
        for (const hook of [...this.connectedHooks]) hook(driver);
      },
      disconnected: () => {
        this.metrics.driverUp.set(0);
        this.reconciler.attach(undefined);
      },
    });
  }

  private registerHealth(): void {
    this.health.setCheck('driver', () => (this.link.current ? { ok: true } : { ok: false, reason: 'driver not connected' }));
    this.health.setCheck('sources', () => {
      const waiting = this.store.waitingFor();
      if (waiting.length) return { ok: false, reason: `not in sync: ${waiting.join(', ')}` };
      const unhealthy = this.sources.unhealthy();
      return unhealthy ? { ok: false, reason: unhealthy } : { ok: true };
    });
    this.health.setCheck('first-apply', () => (this.firstApplyDone ? { ok: true } : { ok: false, reason: 'first apply not done' }));
  }

  private resyncDelay(): number {
    const { resyncIntervalSeconds, resyncJitter } = this.currentConfig.reconcile;
    const jitter = 1 + (Math.random() * 2 - 1) * resyncJitter;
    return Math.max(1, resyncIntervalSeconds * 1000 * jitter);
  }

  /** Of several pending resyncs the earliest wins, so a shorter new interval applies at once. */
  private scheduleResync(): void {
    this.queue.addAfter(RESYNC_KEY, this.resyncDelay());
  }
}
