/**
 * The agent's outward services: the gRPC server (LogService, PolicyService, StateAgent,
 * admin) with the gRPC policy source, and the event pipeline that turns the driver's
 * events into alerts and logs for the LogBroker and the JSON-lines outputs. The pipeline
 * follows the driver across reconnections: one pipeline, fed by whichever driver
 * connection is current.
 */
import type { EventBatch } from '../../driver/abi/types.js';
import type { Driver, PathTranslator } from '../../driver/client/types.js';
import { EventPipeline, publisherSink } from '../events/index.js';
import {
  KawinGrpcServer, LogBroker, adminServiceBinding, logServiceBinding, peerPolicyFor, policyServiceBinding,
  registerLogMetrics, stateAgentBinding,
} from '../grpc/index.js';
import { createOutputs, type Outputs } from '../outputs/index.js';
import { GrpcPolicySource } from '../sources/grpc/index.js';
import { storeValidator } from './policies.js';
import { AgentAdmin } from './admin.js';
import { AGENT_VERSION, type Agent } from './agent.js';
import { AgentStateProvider } from './state-events.js';

export interface AgentServices {
  /** The gRPC address actually bound (host:port). */
  address: string | undefined;
  /**
   * Rejects when the event stream fails for good: another agent holds the driver's port,
   * no privilege, or the driver speaks another ABI. The agent must stop (loudly); the
   * driver keeps enforcing meanwhile.
   */
  fatal: Promise<never>;
  broker: LogBroker;
  pipeline: EventPipeline;
  stop(): Promise<void>;
}

/** DOS↔NT conversion of whichever driver is connected (identity before the first connection). */
function currentPaths(agent: Agent): PathTranslator {
  return {
    toDriver: (p) => agent.link.current?.paths.toDriver(p) ?? p,
    fromDriver: (p) => agent.link.current?.paths.fromDriver(p) ?? p,
  };
}

/** Batches from the current driver connection, then from the next one, until aborted. */
async function* followDriver(agent: Agent, signal: AbortSignal): AsyncGenerator<EventBatch> {
  while (!signal.aborted) {
    const driver: Driver | undefined = agent.link.current ?? (await agent.nextDriver(signal));
    if (!driver) return;
    yield* driver.events({ signal });
    // The stream ended: the connection was dropped (driver gone); wait for the next one.
    if (agent.link.current === driver) await agent.nextDriver(signal);
  }
}

function createPipeline(agent: Agent, broker: LogBroker, outputs: Outputs): EventPipeline {
  const { config } = agent;
  return new EventPipeline({
    hostName: config.hostName, clusterName: config.clusterName, provenance: agent.rules, paths: currentPaths(agent),
    hostTelemetry: config.hostTelemetry, allowAlerts: false, agentVersion: AGENT_VERSION,
    sinks: [publisherSink(broker), ...outputs.sinks], registry: agent.metrics.registry, queueSize: config.events.queueSize,
    logger: agent.logger.child({ component: 'events' }),
  });
}

export async function startServices(agent: Agent): Promise<AgentServices> {
  const { config, logger } = agent;
  const grpcLogger = logger.child({ component: 'grpc' });
  const broker = new LogBroker({ queueSize: config.grpc.subscriberQueueSize, notice: { hostName: config.hostName, clusterName: config.clusterName }, logger: grpcLogger });
  registerLogMetrics(broker, agent.metrics.registry);
  const grpcSource = config.sources.grpc.enabled
    ? new GrpcPolicySource({ stateDir: config.stateDir, validate: storeValidator(agent.store), kinds: config.sources.grpc.kinds, logger: grpcLogger })
    : undefined;
  if (grpcSource) agent.sourceSet.add(grpcSource);
  const peers = peerPolicyFor({ address: config.grpc.address, tls: config.grpc.tls });
  const server = new KawinGrpcServer({ address: config.grpc.address, tls: config.grpc.tls, maxMessageBytes: config.grpc.maxMessageBytes, logger: grpcLogger }, [
    logServiceBinding(broker),
    ...(grpcSource ? [policyServiceBinding(grpcSource, peers, grpcLogger)] : []),
    stateAgentBinding(new AgentStateProvider(agent), { queueSize: config.grpc.subscriberQueueSize, logger: grpcLogger }),
    adminServiceBinding(new AgentAdmin(agent, grpcSource, () => broker.subscriberCount()), peers, grpcLogger),
  ]);
  const port = await server.start();
  const outputs = createOutputs(config.outputs, {
    registry: agent.metrics.registry,
    onError: (output, error) => logger.error('event output failed', { output, error: error.message }),
  });
  const pipeline = createPipeline(agent, broker, outputs);
  agent.onReconfigured((next) => pipeline.builder.setHostTelemetry(next.hostTelemetry));
  const abort = new AbortController();
  const running = pipeline.run(followDriver(agent, abort.signal), abort.signal);
  const fatal = running.then(
    () => new Promise<never>(() => {}), // ended by stop(): nothing fatal
    (error: Error) => {
      logger.error('the driver event stream failed', { error: error.message, name: error.name });
      throw error;
    },
  );
  fatal.catch(() => {}); // observed by the runtime; never an unhandled rejection
  const host = config.grpc.address.startsWith('unix:') ? config.grpc.address : `${config.grpc.address.replace(/:\d+$/, '')}:${port}`;
  return {
    address: host, broker, pipeline, fatal,
    stop: async () => {
      abort.abort();
      await running.catch(() => {});
      await server.stop();
      broker.close();
      await outputs.close();
    },
  };
}
