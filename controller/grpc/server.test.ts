import { test } from 'node:test';
import { makeCerts } from '../../test/certs.js';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { connectivityState, credentials, loadPackageDefinition, status, type Client, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { LogServiceClient, LogServiceService, type NonceMessage, type ReplyMessage } from '../../proto/gen/feeder.js';
import { FakeClock } from '../clock/index.js';
import { LogBroker, logServiceBinding } from './logs/index.js';
import { separateConnection, startTestServer, unary } from './testing.js';

const require = createRequire(import.meta.url);
const reflectionProto = join(require.resolve('@grpc/reflection/package.json'), '..', 'build/proto/grpc/reflection/v1/reflection.proto');
const broker = () => new LogBroker({ queueSize: 8, notice: { hostName: 'h', clusterName: 'c' } });

type AnyCtor = new (target: string, creds: ReturnType<typeof credentials.createInsecure>) => Client & Record<string, (...a: unknown[]) => unknown>;
function ctor(protoFile: string, name: string): AnyCtor {
  const pkg = loadPackageDefinition(loadSync(protoFile, { enums: String })) as Record<string, unknown>;
  return name.split('.').reduce((o, k) => (o as Record<string, unknown>)[k], pkg as unknown) as AnyCtor;
}

void test('grpc.health.v1 answers SERVING for the server and each service, NOT_FOUND for unknown', async () => {
  const running = await startTestServer([logServiceBinding(broker())]);
  const Health = ctor(healthProto, 'grpc.health.v1.Health');
  const c = new Health(running.target, credentials.createInsecure());
  const check = (service: string) => new Promise<{ status: string }>((resolve, reject) =>
    c.Check!({ service }, (e: ServiceError | null, r: { status: string }) => (e ? reject(e) : resolve(r))));
  assert.equal((await check('')).status, 'SERVING');
  assert.equal((await check('feeder.LogService')).status, 'SERVING');
  await assert.rejects(check('nope.Service'), (e: ServiceError) => e.code === status.NOT_FOUND);
  c.close();
  await running.stop();
});

void test('grpc.health.v1 Watch streams a status and its changes (SERVICE_UNKNOWN until set); List gives every status (upstream health.proto client)', async () => {
  const running = await startTestServer([logServiceBinding(broker())]);
  const Health = ctor(healthProto, 'grpc.health.v1.Health');
  const c = new Health(running.target, credentials.createInsecure());
  /** The first `n` statuses of a Watch; `first` resolves with the first (the watch is registered by then). */
  const seen = (service: string, n: number) => {
    const call = c.Watch!({ service }) as unknown as NodeJS.EventEmitter & { cancel(): void };
    const statuses: string[] = [];
    let first!: () => void;
    const registered = new Promise<void>((resolve) => (first = resolve));
    const all = new Promise<string[]>((resolve, reject) => {
      call.on('data', (r: { status: string }) => {
        statuses.push(r.status);
        if (statuses.length === 1) first();
        if (statuses.length === n) { call.cancel(); resolve(statuses); }
      });
      call.on('error', (e: ServiceError) => { if (e.code !== status.CANCELLED) reject(e); });
    });
    return { registered, all };
  };
  const watching = seen('feeder.LogService', 2);
  const unknown = seen('nope.Service', 1);
  await watching.registered;
  running.server.health.setStatus('feeder.LogService', 'NOT_SERVING');
  assert.deepEqual(await watching.all, ['SERVING', 'NOT_SERVING']);
  assert.deepEqual(await unknown.all, ['SERVICE_UNKNOWN']);
  const listed = await new Promise<{ statuses: Record<string, { status: string }> }>((resolve, reject) =>
    c.List!({}, (e: ServiceError | null, r: { statuses: Record<string, { status: string }> }) => (e ? reject(e) : resolve(r))));
  assert.equal(listed.statuses['']?.status, 'SERVING');
  assert.equal(listed.statuses['feeder.LogService']?.status, 'NOT_SERVING');
  c.close();
  await running.stop();
});

void test('reflection v1alpha answers too: a file for a symbol, an error for an unknown one (upstream proto client)', async () => {
  const running = await startTestServer([logServiceBinding(broker())]);
  const alpha = join(require.resolve('@grpc/reflection/package.json'), '..', 'build/proto/grpc/reflection/v1alpha/reflection.proto');
  const Reflection = ctor(alpha, 'grpc.reflection.v1alpha.ServerReflection');
  const c = new Reflection(running.target, credentials.createInsecure());
  const call = c.ServerReflectionInfo!() as unknown as NodeJS.EventEmitter & { write(m: unknown): void; end(): void };
  type Answer = { fileDescriptorResponse?: { fileDescriptorProto: Buffer[] }; errorResponse?: { errorCode: number }; originalRequest?: { fileContainingSymbol?: string } };
  const answers: Answer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    call.on('data', (r: Answer) => { answers.push(r); if (answers.length === 2) resolve(); });
    call.on('error', reject);
  });
  call.write({ fileContainingSymbol: 'feeder.LogService' });
  call.write({ fileContainingSymbol: 'nope.Nothing' });
  await done;
  call.end();
  assert.ok((answers[0]!.fileDescriptorResponse?.fileDescriptorProto.length ?? 0) > 0, 'the file declaring feeder.LogService');
  assert.equal(answers[0]!.originalRequest?.fileContainingSymbol, 'feeder.LogService');
  assert.equal(answers[1]!.errorResponse?.errorCode, status.NOT_FOUND);
  c.close();
  await running.stop();
});

void test('reflection lists the KubeArmor services, kawin admin and health', async () => {
  const running = await startTestServer([logServiceBinding(broker())]);
  const Reflection = ctor(reflectionProto, 'grpc.reflection.v1.ServerReflection');
  const c = new Reflection(running.target, credentials.createInsecure());
  const call = c.ServerReflectionInfo!() as unknown as NodeJS.EventEmitter & { write(m: unknown): void; end(): void };
  const names = await new Promise<string[]>((resolve, reject) => {
    call.on('data', (r: { listServicesResponse?: { service: { name: string }[] } }) => resolve(r.listServicesResponse!.service.map((s) => s.name)));
    call.on('error', reject);
    call.write({ listServices: '' });
  });
  call.end();
  for (const s of ['feeder.LogService', 'policy.PolicyService', 'policy.ProbeService', 'state_agent.StateAgent', 'kawin.admin.v1.AdminService', 'grpc.health.v1.Health']) {
    assert.ok(names.includes(s), `${s} in ${names.join(', ')}`);
  }
  c.close();
  await running.stop();
});

void test('TLS and mutual TLS with certificates made for the test', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-tls-'));
  try {
    makeCerts(dir);
    const f = (n: string) => readFileSync(join(dir, n));
    const health = (target: string, creds: ReturnType<typeof credentials.createSsl>) => {
      const c = new LogServiceClient(target, creds, separateConnection);
      return unary<NonceMessage, ReplyMessage>(c.healthCheck.bind(c), { nonce: 7 }).finally(() => c.close());
    };
    const tls = await startTestServer([logServiceBinding(broker())], { tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') } });
    assert.equal((await health(tls.target, credentials.createSsl(f('ca.crt')))).Retval, 7);
    await assert.rejects(health(tls.target, credentials.createInsecure() as never), (e: ServiceError) => e.code === status.UNAVAILABLE);
    assert.equal(tls.server.peerPolicy.mutualTls, false);
    await tls.stop();

    const mtls = await startTestServer([logServiceBinding(broker())], {
      tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key'), clientCaFile: join(dir, 'ca.crt') },
    });
    assert.equal(mtls.server.peerPolicy.mutualTls, true);
    assert.equal((await health(mtls.target, credentials.createSsl(f('ca.crt'), f('client.key'), f('client.crt')))).Retval, 7);
    await assert.rejects(health(mtls.target, credentials.createSsl(f('ca.crt'))), (e: ServiceError) => e.code === status.UNAVAILABLE);
    await mtls.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('a missing certificate file is a clear error', async () => {
  await assert.rejects(startTestServer([], { tls: { certFile: '/nonexistent/cert.pem', keyFile: '/nonexistent/key.pem' } }), /grpc\.tls\.certFile \/nonexistent\/cert\.pem/);
});

void test('a gRPC connection with no open call is closed after grpc.maxConnectionIdleSeconds', async () => {
  const running = await startTestServer([logServiceBinding(broker())], { maxConnectionIdleMs: 200 });
  const Health = ctor(healthProto, 'grpc.health.v1.Health');
  const c = new Health(running.target, credentials.createInsecure());
  await new Promise<void>((resolve, reject) => c.Check!({ service: '' }, (e: ServiceError | null) => (e ? reject(e) : resolve())));
  const channel = c.getChannel();
  assert.equal(channel.getConnectivityState(false), connectivityState.READY);
  const deadline = Date.now() + 5000;
  while (channel.getConnectivityState(false) === connectivityState.READY) {
    assert.ok(Date.now() < deadline, 'the idle connection was never closed');
    await new Promise((r) => setTimeout(r, 20));
  }
  c.close();
  await running.stop();
});

void test('stop waits the shutdown grace (on the injected clock) for open calls, then cancels them', async () => {
  const clock = new FakeClock();
  let received!: () => void;
  const arrived = new Promise<void>((resolve) => (received = resolve));
  // A call that never finishes on its own, on a service with no shutdown hook to end it.
  const hung = { name: 'feeder.LogService', definition: LogServiceService, implementation: { healthCheck: () => received() }, changesPolicy: false };
  const running = await startTestServer([hung], { shutdownGraceMs: 5000, clock });
  const client = new LogServiceClient(running.target, credentials.createInsecure());
  const call = new Promise<ServiceError | null>((resolve) => client.healthCheck({ nonce: 1 }, (e) => resolve(e)));
  await arrived;
  let stopped = false;
  const stopping = running.stop().then(() => (stopped = true));
  await clock.waitForTimers(1);
  await clock.advanceAsync(4999);
  assert.equal(stopped, false, 'the open call is given the whole grace period');
  await clock.advanceAsync(1);
  await stopping;
  const error = await call;
  assert.ok(error, 'the call was cancelled, not answered');
  client.close();
});
