/**
 * The gRPC port's listener. grpc-js has no bound on connections, so kawin accepts them on
 * a net.Server of its own and hands the admitted ones to grpc-js (a connection
 * injector): at most `maxConnections` open on the port and `maxConnectionsPerPeer` from
 * one address, the rest closed at once; and a TCP connection that has not begun its
 * first call `handshakeTimeoutMs` after it was accepted (a TLS handshake or an HTTP/2
 * preface that never finishes, or nothing at all) is closed. Every refusal and close is
 * counted by reason. Idle connections (no open call) are closed by grpc-js itself
 * (`grpc.max_connection_idle_ms`), dead peers by its keepalive pings.
 */
import { createServer, type Server as NetServer, type Socket } from 'node:net';
import type { ConnectionInjector, ServerInterceptor } from '@grpc/grpc-js';
import { ServerInterceptingCall } from '@grpc/grpc-js';
import { Gauge, type Registry } from 'prom-client';
import { ConnectionSlots, reasonCounter } from '../observability/connection-limits.js';
import { parseListenAddress } from '../config/address.js';
import type { Clock, TimerHandle } from '../clock/index.js';

export interface GrpcConnectionLimits {
  /** Connections open on the port at once (config grpc.maxConnections). */
  maxConnections: number;
  /** Connections open from one address (config grpc.maxConnectionsPerPeer). */
  maxConnectionsPerPeer: number;
  /** From accept to the first call (config grpc.handshakeTimeoutSeconds). */
  handshakeTimeoutMs: number;
}

export const DEFAULT_GRPC_CONNECTION_LIMITS: GrpcConnectionLimits = { maxConnections: 512, maxConnectionsPerPeer: 128, handshakeTimeoutMs: 10_000 };

/** Where a net.Server listens for a configured address: `:port` means every interface (IPv6 and IPv4). */
export type ListenTarget = { path: string } | { host?: string; port: number };

export function listenTarget(address: string, unixPath: string | undefined): ListenTarget {
  if (unixPath !== undefined) return { path: unixPath };
  const { host, port } = parseListenAddress(address);
  return address.trim().startsWith(':') ? { port } : { host, port };
}

/** The grpc-js peer string of a TCP socket, as calls report it (`getPeer()`). */
function peerOf(socket: Socket): string | undefined {
  return socket.remoteAddress && socket.remotePort ? `${socket.remoteAddress}:${socket.remotePort}` : undefined;
}

export class GrpcListener {
  private readonly server: NetServer;
  private readonly slots: ConnectionSlots;
  /** TCP connections accepted that have not begun a call yet, by peer string. */
  private readonly unproven = new Map<string, { socket: Socket; timer: TimerHandle }>();
  private readonly sockets = new Set<Socket>();
  private readonly refused;
  private readonly closed;

  constructor(private readonly injector: ConnectionInjector, private readonly limits: GrpcConnectionLimits, registry: Registry, private readonly clock: Clock) {
    if (!(limits.handshakeTimeoutMs > 0)) throw new RangeError(`grpc.handshakeTimeoutSeconds must be positive, got ${limits.handshakeTimeoutMs / 1000}`);
    this.slots = new ConnectionSlots(limits.maxConnections, limits.maxConnectionsPerPeer);
    this.refused = reasonCounter(registry, 'kawin_grpc_connections_refused_total', 'gRPC connections refused at a limit (reason: port_limit, peer_limit)');
    this.closed = reasonCounter(registry, 'kawin_grpc_connections_closed_total', 'gRPC connections closed by the agent (reason: handshake_timeout)');
    // The gauge reads this listener's slots: a server started again replaces it.
    registry.removeSingleMetric('kawin_grpc_connections');
    const slots = this.slots;
    new Gauge({ name: 'kawin_grpc_connections', help: 'Connections open on the gRPC port', registers: [registry], collect() { this.set(slots.open); } });
    this.server = createServer({ noDelay: true }, (socket) => this.accept(socket));
  }

  /** Marks the connection of a call as working: its handshake timer stops. */
  readonly interceptor: ServerInterceptor = (_method, call) => {
    const entry = this.unproven.get(call.getPeer());
    if (entry) {
      this.clock.clearTimeout(entry.timer);
      this.unproven.delete(call.getPeer());
    }
    return new ServerInterceptingCall(call);
  };

  /** Listens; resolves with the bound TCP port (0 for a unix socket). */
  listen(target: ListenTarget): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(target, () => {
        this.server.off('error', reject);
        const bound = this.server.address();
        resolve(typeof bound === 'object' && bound ? bound.port : 0);
      });
    });
  }

  /** Stops accepting; grpc-js ends the connections it was given (then call destroyRemaining). */
  stopAccepting(): void {
    this.server.close();
  }

  /** Closes what grpc-js did not: connections still in their handshake. */
  destroyRemaining(): void {
    for (const { timer } of this.unproven.values()) this.clock.clearTimeout(timer);
    this.unproven.clear();
    for (const socket of this.sockets) socket.destroy();
  }

  private accept(socket: Socket): void {
    socket.on('error', () => {}); // a reset peer: the close that follows frees its slot
    const reason = this.slots.admit(socket);
    if (reason) {
      this.refused.inc({ reason });
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
    this.startHandshakeTimer(socket);
    this.injector.injectConnection(socket);
  }

  /**
   * A unix socket has no peer string to match calls with; it is owner-only (0600), so
   * only the agent's own user can hold it open, and it is bounded by the port's limit.
   */
  private startHandshakeTimer(socket: Socket): void {
    const peer = peerOf(socket);
    if (!peer) return;
    const timer = this.clock.setTimeout(() => {
      this.unproven.delete(peer);
      this.closed.inc({ reason: 'handshake_timeout' });
      socket.destroy();
    }, this.limits.handshakeTimeoutMs);
    this.unproven.set(peer, { socket, timer });
    socket.once('close', () => {
      if (this.unproven.get(peer)?.socket !== socket) return;
      this.clock.clearTimeout(timer);
      this.unproven.delete(peer);
    });
  }
}
