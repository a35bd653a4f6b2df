/** Server credentials from config: insecure (default, loopback), TLS, or mutual TLS. */
import { readFileSync } from 'node:fs';
import { ServerCredentials } from '@grpc/grpc-js';

export interface GrpcTlsOptions {
  certFile: string;
  keyFile: string;
  /** When set, clients must present a certificate signed by this CA (mutual TLS). */
  clientCaFile?: string;
}

export class GrpcTlsConfigError extends Error {}

function read(path: string, what: string): Buffer {
  try {
    return readFileSync(path);
  } catch (cause) {
    throw new GrpcTlsConfigError(`cannot read ${what} ${path}: ${(cause as Error).message}`, { cause });
  }
}

export function serverCredentials(tls: GrpcTlsOptions | undefined): ServerCredentials {
  if (!tls) return ServerCredentials.createInsecure();
  const pair = { cert_chain: read(tls.certFile, 'grpc.tls.certFile'), private_key: read(tls.keyFile, 'grpc.tls.keyFile') };
  const ca = tls.clientCaFile ? read(tls.clientCaFile, 'grpc.tls.clientCaFile') : null;
  return ServerCredentials.createSsl(ca, [pair], ca !== null);
}
