/**
 * The running agent process: the Agent (every part a runnable of its manager) plus the
 * process-level runnables — the metrics/health HTTP server and the config watcher that
 * applies valid changes live. `stop()` stops all of it, in reverse order of start.
 */
import type { Clock } from '../clock/index.js';
import { ConfigWatcher, type AgentConfig, type ConfigOverrides } from '../config/index.js';
import type { Runnable } from '../manager/index.js';
import { startObservabilityServer, type Logger, type ObservabilityServer } from '../observability/index.js';
import { Agent } from './agent.js';
import type { AgentView } from './views.js';

export interface AgentRuntime {
  /** Read-only views of the agent (status, tests). */
  view: AgentView;
  /** The gRPC address actually bound (host:port). */
  grpcAddress: string | undefined;
  http: ObservabilityServer | undefined;
  /** Rejects when the driver's event stream fails for good (the process must stop). */
  fatal: Promise<never>;
  /** The agent itself, for what a process owner does: whenIdle, resyncNow, rescan, reconfigure. */
  agent: Pick<Agent, 'whenIdle' | 'resyncNow' | 'rescan' | 'reconfigure' | 'readiness' | 'metrics' | 'eventPipeline' | 'parseCounts'>;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  config: AgentConfig;
  logger: Logger & { reconfigure?(options: { level: AgentConfig['logging']['level']; format: AgentConfig['logging']['format']; file?: string }): void };
  overrides?: ConfigOverrides;
  /** Watch the config file and apply valid changes live (default true when there is a file). */
  watchConfig?: boolean;
  /** Time for timers (resync, backoff, debounce); tests pass a FakeClock. */
  clock?: Clock;
  /** Told about every valid config applied live (the process follows what concerns it). */
  onReconfigured?(config: AgentConfig): void;
}

class HttpRunnable implements Runnable {
  readonly name = 'http';
  server: ObservabilityServer | undefined;
  constructor(private readonly agent: Agent, private readonly logger: Logger) {}
  async start(): Promise<void> {
    const { config } = this.agent;
    const m = config.metrics;
    // The HTTP port's share of the descriptor budget (this runnable exists only when metrics are on).
    const limits = {
      maxConnections: this.agent.connections.http?.maxConnections ?? m.maxConnections,
      maxConnectionsPerPeer: this.agent.connections.http?.maxConnectionsPerPeer ?? m.maxConnectionsPerPeer,
      idleTimeoutMs: m.idleTimeoutSeconds * 1000, requestTimeoutMs: m.requestTimeoutSeconds * 1000,
    };
    this.server = await startObservabilityServer({ address: m.address, registry: this.agent.metrics.registry, health: this.agent, logger: this.logger, limits });
    this.logger.info('metrics and health listening', { url: this.server.url });
  }
  async stop(): Promise<void> { await this.server?.close(); }
}

class ConfigWatchRunnable implements Runnable {
  readonly name = 'config-watch';
  private readonly watcher: ConfigWatcher;
  constructor(file: string, private readonly agent: Agent, private readonly options: RuntimeOptions) {
    this.watcher = new ConfigWatcher(file, agent.config, {
      overrides: options.overrides ?? {}, clock: options.clock,
      observer: {
        changed: (next) => this.apply(next),
        invalid: (error) => {
          agent.metrics.configReloads.inc({ result: 'invalid' });
          options.logger.error('config change rejected: the running config stays', { error: error.message });
        },
      },
    });
  }
  start(): Promise<void> { return this.watcher.start(); }
  stop(): Promise<void> { return this.watcher.close(); }

  private apply(next: AgentConfig): void {
    const { logger } = this.options;
    this.agent.metrics.configReloads.inc({ result: 'applied' });
    if (logger.reconfigure) logger.reconfigure({ ...next.logging });
    else logger.setLevel(next.logging.level);
    this.options.onReconfigured?.(next);
    void this.agent.reconfigure(next).then(
      (changed) => logger.info('config change applied', { changed }),
      (error: Error) => logger.error('config change failed', { error: error.message }),
    );
  }
}

/**
 * The runtime, built but not started: a process owner registers its fatal-error handling
 * (which needs `stop`) before anything runs, then calls `start`.
 */
export function createAgentRuntime(options: RuntimeOptions): AgentRuntime & { start(): Promise<void> } {
  const { config, logger } = options;
  const agent = new Agent({ config, logger, clock: options.clock });
  const http = config.metrics.enabled ? new HttpRunnable(agent, logger) : undefined;
  const runtime = {
    view: agent.view, grpcAddress: undefined as string | undefined, http: undefined as ObservabilityServer | undefined,
    fatal: agent.fatal, agent,
    stop: () => agent.stop(),
    async start(): Promise<void> {
      // Health first and config last: /healthz answers while the rest starts, and a config
      // change can only arrive once everything it would touch is running.
      if (http) await agent.manager.add(http);
      try {
        await agent.start();
        if (options.watchConfig !== false && config.configPath) await agent.manager.add(new ConfigWatchRunnable(config.configPath, agent, options));
      } catch (error) {
        // A failed start-up leaves nothing running: no listener, no reader of the driver's port.
        await agent.stop();
        throw error;
      }
      runtime.grpcAddress = agent.grpcAddress;
      runtime.http = http?.server;
    },
  };
  return runtime;
}

export async function startAgentRuntime(options: RuntimeOptions): Promise<AgentRuntime> {
  const runtime = createAgentRuntime(options);
  await runtime.start();
  return runtime;
}
