/**
 * The running agent process: the Agent (reconcile loop) plus its listeners — the
 * metrics/health HTTP server, the gRPC server with the event pipeline — and the config
 * watcher that applies valid changes live. `stop()` shuts all of it down in order.
 */
import type { Clock } from '../clock/index.js';
import { ConfigWatcher, type AgentConfig, type ConfigOverrides } from '../config/index.js';
import { startObservabilityServer, type ObservabilityServer } from '../observability/index.js';
import { Agent, type AgentLogger } from './agent.js';
import { bindSourceFeedback } from './feedback.js';
import { startServices, type AgentServices } from './services.js';
import { countByState, policyStatuses } from './status.js';

export interface AgentRuntime {
  agent: Agent;
  http?: ObservabilityServer;
  services: AgentServices;
  stop(): Promise<void>;
}

export interface RuntimeOptions {
  config: AgentConfig;
  logger: AgentLogger;
  overrides?: ConfigOverrides;
  /** Watch the config file and apply valid changes live (default true when there is a file). */
  watchConfig?: boolean;
  /** Time for timers (resync, backoff, debounce); tests pass a FakeClock. */
  clock?: Clock;
}

export async function startAgentRuntime(options: RuntimeOptions): Promise<AgentRuntime> {
  const { config, logger } = options;
  const agent = new Agent({ config, logger, clock: options.clock });
  // Policies by state are derived when Prometheus scrapes, never on the reconcile path.
  Object.assign(agent.metrics.policies, { collect: () => agent.metrics.setPolicyStates(countByState(policyStatuses(agent))) });
  bindSourceFeedback(agent);
  const services = await startServices(agent);
  const http = config.metrics.enabled
    ? await startObservabilityServer({ address: config.metrics.address, registry: agent.metrics.registry, health: agent.health, logger })
    : undefined;
  if (http) logger.info('metrics and health listening', { url: http.url });
  const watcher = options.watchConfig !== false && config.configPath
    ? watchConfig(config.configPath, agent, options.overrides ?? {})
    : undefined;
  await watcher?.start();
  await agent.start();
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      // Listeners and event readers first, then the reconcile loop (an in-flight apply
      // finishes), then the driver connection and the health endpoint.
      await watcher?.close();
      await services.stop();
      await agent.stop();
      await http?.close();
    })();
    return stopping;
  };
  return { agent, http, services, stop };
}

function watchConfig(file: string, agent: Agent, overrides: ConfigOverrides): ConfigWatcher {
  const watcher = new ConfigWatcher(file, agent.config, { overrides });
  watcher.on('change', (next) => {
    agent.metrics.configReloads.inc({ result: 'applied' });
    void agent.reconfigure(next).then(
      (changed) => agent.logger.info('config change applied', { changed }),
      (error: Error) => agent.logger.error('config change failed', { error: error.message }),
    );
  });
  watcher.on('invalid', (error) => {
    agent.metrics.configReloads.inc({ result: 'invalid' });
    agent.logger.error('config change rejected: the running config stays', { error: error.message });
  });
  return watcher;
}
