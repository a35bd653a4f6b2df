/**
 * The descriptor budget: connections must never take the descriptors the agent needs for
 * its own work (the driver, policy reads, logs, outputs), or at the limit health checks,
 * policy edits and the driver fail with EMFILE. The process's soft RLIMIT_NOFILE (Node
 * raises it to the hard limit at start-up; read from /proc/self/limits on Linux) minus
 * `reservedDescriptors` is what the gRPC and HTTP ports may hold together; their
 * configured bounds are lowered in proportion when they do not fit. Windows has no
 * per-process descriptor limit for sockets: the configured bounds apply as they are.
 */
import { readFileSync } from 'node:fs';
import { Gauge, type Registry } from 'prom-client';
import type { AgentConfig } from '../config/index.js';
import type { Logger } from './log.js';

export interface PortBounds {
  maxConnections: number;
  maxConnectionsPerPeer: number;
}

export interface ConnectionBudget {
  http?: PortBounds;
  grpc: PortBounds;
  /** The soft RLIMIT_NOFILE, when there is one. */
  limit?: number;
  reserved: number;
  /** True when the configured bounds were lowered to fit. */
  lowered: boolean;
}

export class DescriptorBudgetError extends Error {
  override readonly name = 'DescriptorBudgetError';
}

/** The soft `Max open files` of a /proc/<pid>/limits text; undefined when unlimited or absent. */
export function parseDescriptorLimit(text: string): number | undefined {
  const m = /^Max open files\s+(\S+)/m.exec(text);
  if (!m || m[1] === 'unlimited') return undefined;
  const n = Number(m[1]);
  return Number.isSafeInteger(n) && n > 0 ? n : undefined;
}

/** This process's soft descriptor limit, or undefined where there is none to read. */
export function descriptorLimit(): number | undefined {
  if (process.platform !== 'linux') return undefined;
  try {
    return parseDescriptorLimit(readFileSync('/proc/self/limits', 'utf8'));
  } catch {
    return undefined;
  }
}

function scaled(bounds: PortBounds, factor: number): PortBounds {
  const maxConnections = Math.max(1, Math.floor(bounds.maxConnections * factor));
  return { maxConnections, maxConnectionsPerPeer: Math.min(bounds.maxConnectionsPerPeer, maxConnections) };
}

/** The ports' bounds within `limit - reserved` (`http` absent: the HTTP listener is off). */
export function connectionBudget(requested: { http?: PortBounds; grpc: PortBounds }, descriptors: { limit: number | undefined; reserved: number }): ConnectionBudget {
  const { limit, reserved } = descriptors;
  const base = { limit, reserved, lowered: false };
  if (limit === undefined) return { ...requested, ...base };
  const available = limit - reserved;
  const ports = requested.http ? 2 : 1;
  if (available < ports) {
    throw new DescriptorBudgetError(`the descriptor limit (RLIMIT_NOFILE) is ${limit} and reservedDescriptors is ${reserved}: no descriptors are left for connections; raise the limit (LimitNOFILE=, ulimit -n) or lower reservedDescriptors`);
  }
  const wanted = requested.grpc.maxConnections + (requested.http?.maxConnections ?? 0);
  if (wanted <= available) return { ...requested, ...base };
  // Floors keep the sum within `available`; a port raised to 1 from 0 leaves the other below `available - 1`.
  const factor = available / wanted;
  return { grpc: scaled(requested.grpc, factor), ...(requested.http ? { http: scaled(requested.http, factor) } : {}), limit, reserved, lowered: true };
}

/**
 * The agent's connection bounds from its config and this process's descriptor limit,
 * published as gauges (`kawin_descriptor_limit`, `kawin_connections_max{port}`) and
 * logged when they had to be lowered.
 */
export function planConnections(config: AgentConfig, registry: Registry, logger: Logger): ConnectionBudget {
  const pick = ({ maxConnections, maxConnectionsPerPeer }: PortBounds): PortBounds => ({ maxConnections, maxConnectionsPerPeer });
  const requested = { grpc: pick(config.grpc), ...(config.metrics.enabled ? { http: pick(config.metrics) } : {}) };
  const budget = connectionBudget(requested, { limit: descriptorLimit(), reserved: config.reservedDescriptors });
  if (budget.lowered) {
    logger.warn('connection bounds lowered to fit the descriptor limit', {
      limit: budget.limit, reservedDescriptors: budget.reserved, grpc: budget.grpc, http: budget.http,
      configured: requested,
    });
  }
  if (budget.limit !== undefined) {
    new Gauge({ name: 'kawin_descriptor_limit', help: 'The process\'s descriptor limit (soft RLIMIT_NOFILE); absent where there is none (Windows)', registers: [registry] }).set(budget.limit);
  }
  const max = new Gauge({ name: 'kawin_connections_max', help: 'Connections a port may hold at once, after fitting the descriptor limit', labelNames: ['port'], registers: [registry] });
  max.set({ port: 'grpc' }, budget.grpc.maxConnections);
  if (budget.http) max.set({ port: 'http' }, budget.http.maxConnections);
  return budget;
}
