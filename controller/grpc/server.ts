/**
 * The kawin gRPC server: one @grpc/grpc-js server hosting the KubeArmor-compatible
 * services, kawin's admin service, grpc.health.v1.Health and server reflection.
 * Binds 127.0.0.1:32767 by default (upstream binds every interface without TLS);
 * TLS and mutual TLS come from config. Connections are accepted by kawin's own listener
 * (listener.ts: bounded per port and per peer, slow handshakes closed) and handed to
 * grpc-js. Stop = end the streams, tryShutdown within a deadline, then forceShutdown.
 */
import type { Logger } from '../observability/index.js';
import { realClock, type Clock } from '../clock/index.js';
import { Server } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { packageFile } from '../../driver/package-files/index.js';
import type { GrpcServiceBinding } from './binding.js';
import { serverCredentials, type GrpcTlsOptions } from './tls.js';
import type { PeerPolicy } from './peer.js';
import { tolerateMalformed } from './malformed.js';
import { addLazyReflection, commonJs } from './reflection.js';
import { HealthServiceImplementation } from './health.js';
import { isUnixAddress, unixSocketPath } from '../config/address.js';
import { bindOwnerOnly, prepareUnixSocket } from './unix-socket.js';
import { DEFAULT_GRPC_CONNECTION_LIMITS, GrpcListener, listenTarget, type GrpcConnectionLimits } from './listener.js';
import { DEFAULT_GRPC_ADDRESS } from './address.js';

export { DEFAULT_GRPC_ADDRESS };
export const DEFAULT_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;
export const DEFAULT_SHUTDOWN_GRACE_MS = 5000;
export const DEFAULT_MAX_CONNECTION_IDLE_MS = 300_000;
export const DEFAULT_MAX_CONCURRENT_STREAMS = 1000;
export const DEFAULT_KEEPALIVE_MS = 120_000;
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 20_000;

export interface GrpcServerOptions {
  /** host:port or unix:/path (config grpc.address). */
  address?: string;
  tls?: GrpcTlsOptions;
  /** Largest message received or sent (config grpc.maxMessageBytes). */
  maxMessageBytes?: number;
  /** A connection with no open call for this long is closed (config grpc.maxConnectionIdleSeconds). */
  maxConnectionIdleMs?: number;
  /** Calls open at once on one connection (config grpc.maxConcurrentStreams). */
  maxConcurrentStreams?: number;
  /** Bounds on the port's connections (config grpc.maxConnections, maxConnectionsPerPeer, handshakeTimeoutSeconds). */
  connections?: GrpcConnectionLimits;
  /** The agent pings a connection silent this long; no answer within keepaliveTimeoutMs closes it (config grpc.keepalive*). */
  keepaliveMs?: number;
  keepaliveTimeoutMs?: number;
  /** Where the connection metrics go (a private registry when absent). */
  registry?: Registry;
  /** How long stop() waits for calls to finish before cancelling them. */
  shutdownGraceMs?: number;
  /** Times the shutdown grace. */
  clock?: Clock;
  logger?: Logger;
}

const protoDir = fileURLToPath(packageFile('proto/'));
const PROTO_FILES = ['feeder.proto', 'policy.proto', 'state_agent.proto', 'kawin_admin.proto', 'health.proto'];

/** The peer rule for a server with these options (see peer.ts). */
export function peerPolicyFor(options: Pick<GrpcServerOptions, 'address' | 'tls'>): PeerPolicy {
  return {
    mutualTls: Boolean(options.tls?.clientCaFile),
    unixSocketOnly: isUnixAddress(options.address ?? DEFAULT_GRPC_ADDRESS),
  };
}

export class KawinGrpcServer {
  readonly health = new HealthServiceImplementation();
  private readonly server: Server;
  private listener: GrpcListener | undefined;
  private readonly interceptor: GrpcListener['interceptor'];
  private boundPort: number | undefined;

  constructor(private readonly options: GrpcServerOptions, private readonly bindings: GrpcServiceBinding[]) {
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    // The listener exists only once start() has the credentials; calls cannot arrive before.
    this.interceptor = (method, call) => this.listener!.interceptor(method, call);
    this.server = new Server({
      'grpc.max_receive_message_length': max, 'grpc.max_send_message_length': max,
      'grpc.max_connection_idle_ms': options.maxConnectionIdleMs ?? DEFAULT_MAX_CONNECTION_IDLE_MS,
      'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? DEFAULT_MAX_CONCURRENT_STREAMS,
      'grpc.keepalive_time_ms': options.keepaliveMs ?? DEFAULT_KEEPALIVE_MS,
      'grpc.keepalive_timeout_ms': options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      interceptors: [this.interceptor],
    });
    this.health.setStatus('', 'NOT_SERVING');
    for (const b of bindings.map(tolerateMalformed)) {
      this.server.addService(b.definition, b.implementation);
      this.health.setStatus(b.name, 'NOT_SERVING');
    }
    this.health.addToServer(this.server);
    addLazyReflection(this.server, async () => commonJs(await import('@grpc/proto-loader')).loadSync(PROTO_FILES.map((f) => join(protoDir, f)), { includeDirs: [protoDir] }));
  }

  get address(): string {
    return this.options.address ?? DEFAULT_GRPC_ADDRESS;
  }

  /** The bound TCP port (useful with port 0). */
  get port(): number | undefined {
    return this.boundPort;
  }

  get peerPolicy(): PeerPolicy {
    return peerPolicyFor(this.options);
  }

  async start(): Promise<number> {
    const injector = this.server.createConnectionInjector(serverCredentials(this.options.tls));
    const listener = new GrpcListener(injector, this.options.connections ?? DEFAULT_GRPC_CONNECTION_LIMITS, this.options.registry ?? new Registry(), this.options.clock ?? realClock);
    this.listener = listener;
    const unixPath = isUnixAddress(this.address) ? unixSocketPath(this.address) : undefined;
    const bind = (): Promise<number> => listener.listen(listenTarget(this.address, unixPath)).catch((error: Error) => {
      throw new Error(`cannot listen on ${this.address}: ${error.message}`, { cause: error });
    });
    if (unixPath !== undefined) {
      await prepareUnixSocket(unixPath).catch((cause: Error) => { throw new Error(`cannot listen on ${this.address}: ${cause.message}`, { cause }); });
      this.boundPort = await bindOwnerOnly(unixPath, bind);
    } else {
      this.boundPort = await bind();
    }
    this.setServing('SERVING');
    this.options.logger?.info('gRPC server listening', { address: this.address, port: this.boundPort, tls: Boolean(this.options.tls), mutualTls: Boolean(this.options.tls?.clientCaFile) });
    return this.boundPort;
  }

  async stop(): Promise<void> {
    this.setServing('NOT_SERVING');
    this.listener?.stopAccepting();
    for (const b of this.bindings) b.shutdown?.();
    const grace = this.options.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS;
    const clock = this.options.clock ?? realClock;
    await new Promise<void>((resolve) => {
      const timer = clock.setTimeout(() => {
        this.options.logger?.warn('gRPC calls still open after the shutdown grace period: cancelling them', { graceMs: grace });
        this.server.forceShutdown();
        resolve();
      }, grace);
      this.server.tryShutdown(() => {
        clock.clearTimeout(timer);
        resolve();
      });
    });
    this.listener?.destroyRemaining();
  }

  private setServing(state: 'SERVING' | 'NOT_SERVING'): void {
    this.health.setStatus('', state);
    for (const b of this.bindings) this.health.setStatus(b.name, state);
  }
}
