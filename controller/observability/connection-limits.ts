/**
 * Bounds on the HTTP listener's connections: at most `maxConnections` open on the port and
 * `maxConnectionsPerPeer` from one address (so one client cannot take them all), idle
 * connections closed, requests that are never finished (slowloris) timed out. Every
 * refusal and close is counted, by reason.
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

function counter(registry: Registry, name: string, help: string): Counter<'reason'> {
  return (registry.getSingleMetric(name) as Counter<'reason'> | undefined)
    ?? new Counter({ name, help, labelNames: ['reason'], registers: [registry] });
}

/** How often Node checks request timeouts: often enough that a timeout is not overshot by much. */
export function checkingIntervalMs(limits: ConnectionLimits): number {
  return Math.max(50, Math.min(1000, Math.floor(limits.requestTimeoutMs / 4)));
}

export function limitConnections(server: Server, limits: ConnectionLimits, registry: Registry): void {
  const refused = counter(registry, 'kawin_http_connections_refused_total', 'HTTP connections refused at a limit (reason: port_limit, peer_limit)');
  const closed = counter(registry, 'kawin_http_connections_closed_total', 'HTTP connections closed by the agent (reason: idle, request_timeout, bad_request)');
  const perPeer = new Map<string, number>();
  let open = 0;
  server.headersTimeout = limits.requestTimeoutMs;
  server.requestTimeout = limits.requestTimeoutMs;
  // Past the idle timeout, so that an idle keep-alive connection is closed (and counted) by it.
  server.keepAliveTimeout = limits.idleTimeoutMs + 1000;
  server.setTimeout(limits.idleTimeoutMs, (socket: Socket) => {
    closed.inc({ reason: 'idle' });
    socket.destroy();
  });
  server.on('connection', (socket: Socket) => {
    const peer = socket.remoteAddress ?? 'unknown';
    const fromPeer = perPeer.get(peer) ?? 0;
    const reason = open >= limits.maxConnections ? 'port_limit' : fromPeer >= limits.maxConnectionsPerPeer ? 'peer_limit' : undefined;
    if (reason) {
      refused.inc({ reason });
      socket.destroy();
      return;
    }
    open++;
    perPeer.set(peer, fromPeer + 1);
    socket.once('close', () => {
      open--;
      const left = (perPeer.get(peer) ?? 1) - 1;
      if (left > 0) perPeer.set(peer, left);
      else perPeer.delete(peer);
    });
  });
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Socket) => {
    const timeout = error.code === 'ERR_HTTP_REQUEST_TIMEOUT';
    closed.inc({ reason: timeout ? 'request_timeout' : 'bad_request' });
    if (socket.writable) socket.end(timeout ? 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n' : 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    socket.destroy();
  });
}
