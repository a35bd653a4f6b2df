/** Test helpers: a real kawin gRPC server on an ephemeral loopback port, and clients. */
import { credentials, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { KawinGrpcServer, type GrpcServerOptions } from './server.js';
import type { GrpcServiceBinding } from './binding.js';

export interface RunningServer {
  server: KawinGrpcServer;
  target: string;
  stop(): Promise<void>;
}

export async function startTestServer(bindings: GrpcServiceBinding[], options: GrpcServerOptions = {}): Promise<RunningServer> {
  const server = new KawinGrpcServer({ address: '127.0.0.1:0', shutdownGraceMs: 1000, ...options }, bindings);
  const port = await server.start();
  return { server, target: `127.0.0.1:${port}`, stop: () => server.stop() };
}

/** Own connection per client (grpc-js otherwise shares one per target), like separate karmor processes. */
export const separateConnection: ChannelOptions = { 'grpc.use_local_subchannel_pool': 1 };

export function insecure(): ChannelCredentials {
  return credentials.createInsecure();
}

/** Promisifies a grpc-js unary client method. */
export function unary<Req, Res>(fn: (req: Req, cb: (e: Error | null, r: Res) => void) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => fn(req, (e, r) => (e ? reject(e) : resolve(r))));
}

/** A stand-in for the policy module's validator: JSON with a spec whose action is valid. */
export function fakeValidator(text: string, location: string): { identity?: { kind: string; namespace?: string; name: string }; errors: { severity: 'error' | 'warning'; location: string; message: string; path?: string }[] } {
  let doc: { kind?: string; metadata?: { name?: string; namespace?: string }; spec?: { action?: string; unsupported?: unknown } };
  try {
    doc = JSON.parse(text) as typeof doc;
  } catch (error) {
    return { errors: [{ severity: 'error', location, message: (error as Error).message }] };
  }
  const identity = { kind: doc.kind ?? '', name: doc.metadata?.name ?? '', ...(doc.metadata?.namespace ? { namespace: doc.metadata.namespace } : {}) };
  const errors: { severity: 'error' | 'warning'; location: string; message: string; path?: string }[] = [];
  if (!['Allow', 'Audit', 'Block'].includes(doc.spec?.action ?? '')) {
    errors.push({ severity: 'error', location, path: 'spec.action', message: 'spec.action must be Allow, Audit or Block' });
  }
  if (doc.spec?.unsupported !== undefined) errors.push({ severity: 'warning', location, path: 'spec.unsupported', message: 'not enforceable on Windows' });
  return { identity, errors };
}

/** A SourceSink that records every call. */
export function recordingSink() {
  const log = {
    upserts: [] as { source: string; origin: string; text: string; location: string }[],
    removes: [] as { source: string; origin: string }[],
    syncs: [] as { source: string; revision: string }[],
    failures: [] as { source: string; error: Error }[],
    rejections: [] as { source: string; origin: string; error: Error }[],
  };
  const sink = {
    upsert: (source: string, doc: { origin: string; text: string; location: string }) => { log.upserts.push({ source, ...doc }); },
    remove: (source: string, origin: string) => { log.removes.push({ source, origin }); },
    synced: (source: string, revision: string) => { log.syncs.push({ source, revision }); },
    failed: (source: string, error: Error) => { log.failures.push({ source, error }); },
    rejected: (source: string, origin: string, error: Error) => { log.rejections.push({ source, origin, error }); },
  };
  return { sink, log };
}
