/**
 * Bounds on a listener's connections: at most `maxConnections` open on the port and
 * `maxConnectionsPerPeer` from one address (so one client cannot take them all); for the
 * HTTP listener also idle connections closed and requests that are never finished
 * (slowloris) timed out. Every refusal and close is counted, by reason.
 */
import type { Server } from 'node:http';
import type { Socket } from 'node:net';
import { Counter, type Registry } from 'prom-client';

export interface ConnectionLimits {
  maxConnections: number;
  maxConnectionsPerPeer: number;
  /** A connection with no traffic for this long is closed. */
  idleTimeoutMs: number;
  /**
   * A request whose headers and body have not all arrived by then (counted from the
   * connection for its first request) is answered 408 and closed.
   */
  requestTimeoutMs: number;
}

export const DEFAULT_CONNECTION_LIMITS: ConnectionLimits = {
  maxConnections: 128, maxConnectionsPerPeer: 32, idleTimeoutMs: 60_000, requestTimeoutMs: 10_000,
};

export function reasonCounter(registry: Registry, name: string, help: string): Counter<'reason'> {
  return (registry.getSingleMetric(name) as Counter<'reason'> | undefined)
    ?? new Counter({ name, help, labelNames: ['reason'], registers: [registry] });
}

/** How often Node checks request timeouts: often enough that a timeout is not overshot by much. */
export function checkingIntervalMs(limits: ConnectionLimits): number {
  return Math.max(50, Math.min(1000, Math.floor(limits.requestTimeoutMs / 4)));
}

/** Why a connection was refused at accept. */
export type RefusalReason = 'port_limit' | 'peer_limit';

/**
 * The open connections of one listening port, by peer address, against the port's bound
 * and the per-peer bound. The HTTP and gRPC listeners share it. A peer without an
 * address (a unix socket: always local) counts only against the port's bound.
 */
export class ConnectionSlots {
  private openCount = 0;
  private readonly perPeer = new Map<string, number>();

  constructor(readonly maxConnections: number, readonly maxConnectionsPerPeer: number) {
    for (const [name, value] of [['maxConnections', maxConnections], ['maxConnectionsPerPeer', maxConnectionsPerPeer]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`${name} must be a positive integer, got ${value}`);
    }
  }

  get open(): number {
    return this.openCount;
  }

  /** Takes a slot for `socket`, given back when it closes; or says why not (the caller closes it). */
  admit(socket: Socket): RefusalReason | undefined {
    const peer = socket.remoteAddress;
    const fromPeer = peer === undefined ? 0 : (this.perPeer.get(peer) ?? 0);
    if (this.openCount >= this.maxConnections) return 'port_limit';
    if (fromPeer >= this.maxConnectionsPerPeer) return 'peer_limit';
    this.openCount++;
    if (peer !== undefined) this.perPeer.set(peer, fromPeer + 1);
    socket.once('close', () => {
      this.openCount--;
      if (peer === undefined) return;
      const left = (this.perPeer.get(peer) ?? 1) - 1;
      if (left > 0) this.perPeer.set(peer, left);
      else this.perPeer.delete(peer);
    });
    return undefined;
  }
}

export function limitConnections(server: Server, limits: ConnectionLimits, registry: Registry): void {
  const refused = reasonCounter(registry, 'kawin_http_connections_refused_total', 'HTTP connections refused at a limit (reason: port_limit, peer_limit)');
  const closed = reasonCounter(registry, 'kawin_http_connections_closed_total', 'HTTP connections closed by the agent (reason: idle, request_timeout, bad_request)');
  const slots = new ConnectionSlots(limits.maxConnections, limits.maxConnectionsPerPeer);
  server.headersTimeout = limits.requestTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // Past the idle timeout, so that an idle keep-alive connection is closed (and counted) by it.
  server.keepAliveTimeout = limits.idleTimeoutMs + 1000;
  server.setTimeout(limits.idleTimeoutMs, (socket: Socket) => {
    closed.inc({ reason: 'idle' });
    socket.destroy();
  });
  server.on('connection', (socket: Socket) => {
    const reason = slots.admit(socket);
    if (!reason) return;
    refused.inc({ reason });
    socket.destroy();
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    closed.inc({ reason: timeout ? 'request_timeout' : 'bad_request' });
    if (socket.writable) socket.end(timeout ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
}
