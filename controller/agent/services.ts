/**
 * The agent's outward services as runnables: the gRPC server (LogService, StateAgent,
 * ProbeService, admin, and whatever services the sources bring — the gRPC source's PolicyService), and
 * the event pipeline that turns the driver's events into alerts and logs for the
 * LogBroker and the JSON-lines outputs. The pipeline follows the driver across
 * reconnections: one pipeline, fed by whichever driver connection is current.
 */
import { machineId } from '../node/index.js';
import type { Driver, HostEventBatch } from '../../driver/client/index.js';
import type { AgentConfig } from '../config/index.js';
import type { Clock } from '../clock/index.js';
import { EventPipeline, publisherSink } from '../events/index.js';
import {
  KawinGrpcServer, adminServiceBinding, logServiceBinding, peerPolicyFor, probeServiceBinding, stateAgentBinding,
  type AdminBackend, type GrpcServiceBinding, type LogBroker, type ProbeProvider, type RequestGate, type StateProvider,
} from '../grpc/index.js';
import type { Runnable } from '../manager/index.js';
import type { Registry } from 'prom-client';
import type { AgentMetrics, Logger, PortBounds } from '../observability/index.js';
import { createOutputs, type Outputs } from '../outputs/index.js';
import type { ProvenanceLookup } from '../policy/index.js';
import type { PolicySource } from '../sources/types.js';
import type { DriverLink } from './driver-link.js';
import { AGENT_VERSION } from './version.js';

export interface GrpcServerOptions {
  config: AgentConfig;
  clock: Clock;
  logger: Logger;
  broker: LogBroker;
  state: StateProvider;
  /** What policy.ProbeService reports (`karmor probe`). */
  probe: ProbeProvider;
  admin: AdminBackend;
  /** The bound on DiffPolicies at once (grpc.maxConcurrentDiffs). */
  diffs: RequestGate;
  /** Sources running when the server starts; each may serve its own gRPC services. */
  sources: () => readonly PolicySource[];
  /** The port's connection bounds, fitted to the descriptor limit (Agent.connections). */
  connections: PortBounds;
  /** Where the connection metrics go. */
  registry: Registry;
}

/** The one gRPC server (started after the sources, so theirs are included). */
export class GrpcServerRunnable implements Runnable {
  readonly name = 'grpc-server';
  private server: KawinGrpcServer | undefined;
  private bound: string | undefined;

  constructor(private readonly options: GrpcServerOptions) {}

  /** The address actually bound (host:port, or the unix: address). */
  get address(): string | undefined { return this.bound; }

  async start(): Promise<void> {
    const { config, clock, logger, broker, state, probe, admin, diffs, sources, connections, registry } = this.options;
    const peers = peerPolicyFor({ address: config.grpc.address, tls: config.grpc.tls });
    const bindings: GrpcServiceBinding[] = [
      logServiceBinding(broker),
      ...sources().flatMap((s) => s.grpcServices?.(peers) ?? []),
      stateAgentBinding(state, { queueSize: config.grpc.subscriberQueueSize, queueBytes: config.grpc.subscriberQueueBytes, slots: broker, logger }),
      probeServiceBinding(probe),
      adminServiceBinding(admin, peers, logger, diffs),
    ];
    this.server = new KawinGrpcServer({
      address: config.grpc.address, tls: config.grpc.tls, maxMessageBytes: config.grpc.maxMessageBytes, clock, logger,
      maxConnectionIdleMs: config.grpc.maxConnectionIdleSeconds * 1000, maxConcurrentStreams: config.grpc.maxConcurrentStreams,
      connections: { ...connections, handshakeTimeoutMs: config.grpc.handshakeTimeoutSeconds * 1000 },
      keepaliveMs: config.grpc.keepaliveSeconds * 1000, keepaliveTimeoutMs: config.grpc.keepaliveTimeoutSeconds * 1000, registry,
    }, bindings);
    const port = await this.server.start();
    const address = config.grpc.address;
    this.bound = address.startsWith('unix:') ? address : `${address.replace(/:\d+$/, '')}:${port}`;
    logger.info('gRPC listening', { address: this.bound });
  }

  async stop(): Promise<void> {
    await this.server?.stop();
    this.options.broker.close();
  }
}

export interface PipelineOptions {
  config: AgentConfig;
  logger: Logger;
  metrics: AgentMetrics;
  broker: LogBroker;
  link: DriverLink;
  provenance: ProvenanceLookup;
}

/** Batches from the current driver connection, then from the next one, until aborted. */
async function* followDriver(link: DriverLink, signal: AbortSignal): AsyncGenerator<HostEventBatch> {
  while (!signal.aborted) {
    const driver: Driver | undefined = link.current ?? (await link.next(signal));
    if (!driver) return;
    yield* driver.events({ signal });
    // The stream ended: the connection was dropped (driver gone); wait for the next one.
    if (link.current === driver) await link.next(signal);
  }
}

/** The event pipeline and its outputs. `fatal` rejects when the event stream fails for good. */
export class PipelineRunnable implements Runnable {
  readonly name = 'event-pipeline';
  readonly pipeline: EventPipeline;
  /**
   * Rejects when the event stream fails for good: another agent holds the driver's port,
   * no privilege, or the driver speaks another ABI. The agent must stop (loudly); the
   * driver keeps enforcing meanwhile.
   */
  readonly fatal: Promise<never>;
  private readonly outputs: Outputs;
  private readonly abort = new AbortController();
  private running: Promise<void> | undefined;
  private failWith: (error: Error) => void = () => {};

  constructor(private readonly options: PipelineOptions) {
    const { config, logger, metrics, broker, provenance } = options;
    this.outputs = createOutputs(config.outputs, {
      registry: metrics.registry,
      observer: { failed: (output, error) => logger.error('event output failed', { output, error: error.message }) },
    });
    this.pipeline = new EventPipeline({
      hostName: config.hostName, clusterName: config.clusterName, nodeId: machineId(config.hostName), provenance,
      hostTelemetry: config.hostTelemetry, allowAlerts: false, agentVersion: AGENT_VERSION,
      sinks: [publisherSink(broker), ...this.outputs.sinks], registry: metrics.registry, queueSize: config.events.queueSize,
      logger: logger.child({ component: 'events' }),
    });
    this.fatal = new Promise<never>((_, reject) => { this.failWith = reject; });
    this.fatal.catch(() => {}); // observed by the runtime; never an unhandled rejection
  }

  start(): Promise<void> {
    this.running = this.pipeline.run(followDriver(this.options.link, this.abort.signal), this.abort.signal).catch((error: Error) => {
      this.options.logger.error('the driver event stream failed', { error: error.message, name: error.name });
      this.failWith(error);
    });
    return Promise.resolve();
  }

  /** Live config: what the pipeline follows without a restart. */
  reconfigure(config: AgentConfig): void {
    this.pipeline.builder.setHostTelemetry(config.hostTelemetry);
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.running;
    await this.outputs.close();
  }
}
