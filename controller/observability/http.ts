/**
 * The agent's one HTTP listener (loopback by default): /metrics for Prometheus,
 * /healthz (the process is alive) and /readyz (every registered check passes).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { parseListenAddress } from '../config/address.js';
import { formatReadiness, type Readiness } from './health.js';
import type { Logger } from './log.js';

export interface ObservabilityServerOptions {
  /** `host:port`; port 0 picks a free one. */
  address: string;
  registry: Registry;
  /** Where /readyz reads readiness (the agent's manager: the conjunction of its parts). */
  health: { readiness(): Readiness | Promise<Readiness> };
  /** Where handler failures are logged. */
  logger?: Logger;
}

export interface ObservabilityServer {
  /** Bound host and port (the real port when 0 was asked). */
  readonly host: string;
  readonly port: number;
  /** `http://host:port` */
  readonly url: string;
  close(): Promise<void>;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void>;

function send(res: ServerResponse, status: number, body: string, contentType = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Cache-Control': 'no-store' });
  res.end(body);
}

function routes(options: ObservabilityServerOptions): Record<string, Handler> {
  return {
    '/metrics': async (_req, res) => send(res, 200, await options.registry.metrics(), options.registry.contentType),
    '/healthz': async (_req, res) => send(res, 200, 'ok\n'),
    '/readyz': async (_req, res, url) => {
      const readiness = await options.health.readiness();
      send(res, readiness.ok ? 200 : 503, formatReadiness(readiness, url.searchParams.has('verbose')));
    },
  };
}

/**
 * The request target as a URL, or undefined when it is not one: the target is whatever a
 * client sent (`//[`, `//a:99999999/`), so a parse failure is the client's error, a 400.
 */
function requestUrl(req: IncomingMessage): URL | undefined {
  try {
    return new URL(req.url ?? '/', 'http://localhost');
  } catch {
    return undefined;
  }
}

function handler(options: ObservabilityServerOptions) {
  const table = routes(options);
  return (req: IncomingMessage, res: ServerResponse): void => {
    const url = requestUrl(req);
    if (!url) return send(res, 400, 'bad request: the request target is not a URL path\n');
    const route = Object.hasOwn(table, url.pathname) ? table[url.pathname] : undefined;
    if (!route) return send(res, 404, 'not found\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n');
    route(req, res, url).catch((error: unknown) => {
      options.logger?.error('HTTP handler failed', { path: url.pathname, error });
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.destroy();
    });
  };
}

function listen(server: Server, host: string, port: number): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve(server.address() as AddressInfo);
    });
  });
}

export async function startObservabilityServer(options: ObservabilityServerOptions): Promise<ObservabilityServer> {
  const { host, port } = parseListenAddress(options.address);
  const server = createServer(handler(options));
  const bound = await listen(server, host, port).catch((cause: unknown) => {
    throw new Error(`cannot listen on ${options.address} for metrics and health`, { cause });
  });
  const urlHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    host: bound.address,
    port: bound.port,
    url: `http://${urlHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
