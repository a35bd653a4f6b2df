/**
 * Client side of kawin's gRPC API for the CLI (`kawin policy`, `kawin logs`): where to
 * connect (flag, config file, environment, default) and with which credentials.
 */
import { readFileSync } from 'node:fs';
import { credentials, Metadata, type ChannelCredentials, type ServiceError } from '@grpc/grpc-js';
import { DEFAULT_GRPC_ADDRESS } from '../address.js';

export interface ConnectOptions {
  address?: string;
  /** config.json whose grpc.address is the default address. */
  config?: string;
  /** CA bundle to verify the server; enables TLS. */
  tlsCa?: string;
  /** Client certificate and key for mutual TLS. */
  tlsCert?: string;
  tlsKey?: string;
  /** Name to verify in the server certificate (default: the host of the address). */
  tlsServerName?: string;
}

export interface Connection {
  target: string;
  credentials: ChannelCredentials;
  channelOptions: Record<string, string | number>;
}

function configAddress(path: string): string | undefined {
  let config: { grpc?: { address?: unknown } };
  try {
    config = JSON.parse(readFileSync(path, 'utf8')) as typeof config;
  } catch (cause) {
    throw new Error(`cannot read config ${path}: ${(cause as Error).message}`, { cause });
  }
  const address = config.grpc?.address;
  return typeof address === 'string' && address !== '' ? address : undefined;
}

function readPem(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new Error(`cannot read ${what} ${path}: ${(cause as Error).message}`, { cause });
  }
}

/** --address, else the config's grpc.address (--config or $KAWIN_CONFIG), else $KAWIN_GRPC_ADDRESS, else the default. */
function targetOf(o: ConnectOptions): string {
  const config = o.config ?? process.env.KAWIN_CONFIG;
  return o.address ?? (config ? configAddress(config) : undefined) ?? process.env.KAWIN_GRPC_ADDRESS ?? DEFAULT_GRPC_ADDRESS;
}

export function resolveConnection(o: ConnectOptions): Connection {
  const target = targetOf(o);
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new Error('--tls-cert and --tls-key go together');
  if (!o.tlsCa && !o.tlsCert) return { target, credentials: credentials.createInsecure(), channelOptions: {} };
  const ca = o.tlsCa ? readPem(o.tlsCa, '--tls-ca') : null;
  const key = o.tlsKey ? readPem(o.tlsKey, '--tls-key') : null;
  const cert = o.tlsCert ? readPem(o.tlsCert, '--tls-cert') : null;
  const channelOptions: Record<string, string> = o.tlsServerName ? { 'grpc.ssl_target_name_override': o.tlsServerName } : {};
  return { target, credentials: credentials.createSsl(ca, key, cert), channelOptions };
}

/** Deadline for one CLI call. */
export function callOptions(seconds = 30): { deadline: number } {
  return { deadline: Date.now() + seconds * 1000 };
}

export function emptyMetadata(): Metadata {
  return new Metadata();
}

/** A readable one-line reason for a failed call. */
export function describeError(error: unknown, target: string): string {
  const e = error as Partial<ServiceError>;
  if (e.code === 14) return `cannot reach kawin at ${target}: ${e.details ?? e.message}`;
  if (e.code === 7) return `refused by kawin: ${e.details}`;
  return e.details ? `${e.details} (gRPC status ${e.code})` : String((error as Error).message ?? error);
}
