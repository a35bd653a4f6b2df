/** Rules the schema cannot express: relations between fields, address syntax, security. */
import { canonicalListenAddress, isLoopbackHost, isUnixAddress, parseListenAddress, unixSocketPath } from './address.js';
import type { PointedProblem } from './ajv-problems.js';

interface Shape {
  sources?: { files?: { enabled?: boolean; paths?: unknown[] } };
  reconcile?: { backoff?: { initialMs?: number; maxMs?: number } };
  grpc?: { address?: unknown; tls?: { clientCaFile?: string } };
  metrics?: { address?: unknown };
}

function addressProblem(pointer: string, address: unknown, unixAllowed = false): PointedProblem | undefined {
  if (typeof address !== 'string') return undefined;
  try {
    if (unixAllowed && isUnixAddress(address)) unixSocketPath(address);
    else parseListenAddress(address);
    return undefined;
  } catch (error) {
    return { pointer, message: (error as Error).message };
  }
}

/**
 * Policy RPCs change enforcement: off-machine access needs mutual TLS (secure by default).
 * Local means a loopback address or a unix socket; a host name is never local by name.
 */
function grpcExposure(grpc: Shape['grpc']): PointedProblem | undefined {
  if (typeof grpc?.address !== 'string' || grpc.tls?.clientCaFile || isUnixAddress(grpc.address)) return undefined;
  let host: string;
  try {
    host = parseListenAddress(canonicalListenAddress(grpc.address)).host;
  } catch {
    return undefined;
  }
  if (isLoopbackHost(host)) return undefined;
  return {
    pointer: '/grpc/address',
    message: `${grpc.address} is reachable from other machines; use a loopback address or configure grpc.tls with clientCaFile (mutual TLS)`,
  };
}

function backoffOrder(backoff: { initialMs?: number; maxMs?: number } | undefined): PointedProblem | undefined {
  if (typeof backoff?.initialMs !== 'number' || typeof backoff.maxMs !== 'number' || backoff.maxMs >= backoff.initialMs) return undefined;
  return { pointer: '/reconcile/backoff/maxMs', message: `must be >= reconcile.backoff.initialMs (${backoff.initialMs}) (got ${backoff.maxMs})` };
}

function filesNeedPaths(files: { enabled?: boolean; paths?: unknown[] } | undefined): PointedProblem | undefined {
  if (files?.enabled !== true || !Array.isArray(files.paths) || files.paths.length > 0) return undefined;
  return { pointer: '/sources/files/paths', message: 'must list at least one directory when the files source is enabled' };
}

export function semanticProblems(config: unknown): PointedProblem[] {
  const c = (config ?? {}) as Shape;
  const problems = [
    addressProblem('/grpc/address', c.grpc?.address, true),
    addressProblem('/metrics/address', c.metrics?.address),
    grpcExposure(c.grpc),
    backoffOrder(c.reconcile?.backoff),
    filesNeedPaths(c.sources?.files),
  ];
  return problems.filter((p): p is PointedProblem => p !== undefined);
}
