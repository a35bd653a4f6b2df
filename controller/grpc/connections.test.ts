import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { Registry } from 'prom-client';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeCerts } from '../../test/certs.js';
import { LogServiceClient, type NonceMessage, type ReplyMessage } from '../../proto/gen/feeder.js';
import { LogBroker, logServiceBinding } from './logs/index.js';
import { insecure, separateConnection, startTestServer, unary } from './testing.js';

const broker = () => new LogBroker({ queueSize: 8, notice: { hostName: 'h', clusterName: 'c' } });

async function open(port: number, from = '127.0.0.1'): Promise<{ socket: Socket; closed: Promise<void> }> {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  socket.on('error', () => {});
  socket.on('data', () => {});
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  return { socket, closed };
}

const isClosed = (c: Promise<void>, ms: number) => Promise.race([c.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

async function metricValue(registry: Registry, name: string, reason: string): Promise<number> {
  const m = await registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

function health(target: string, localAddress?: string): Promise<ReplyMessage> {
  const c = new LogServiceClient(target, insecure(), { ...separateConnection, ...(localAddress ? { 'grpc.local_address': localAddress } : {}) });
  return unary<NonceMessage, ReplyMessage>(c.healthCheck.bind(c), { nonce: 3 }).finally(() => c.close());
}

void test('gRPC connections are bounded per peer and per port; each refusal is counted', async (t) => {
  const registry = new Registry();
  const running = await startTestServer([logServiceBinding(broker())], {
    registry, connections: { maxConnections: 3, maxConnectionsPerPeer: 2, handshakeTimeoutMs: 60_000 },
  });
  t.after(() => running.stop());
  const port = running.server.port!;
  const a = await open(port);
  const b = await open(port);
  const third = await open(port);
  assert.ok(await isClosed(third.closed, 2000), 'a third connection from the same peer is closed');
  assert.equal(await metricValue(registry, 'kawin_grpc_connections_refused_total', 'peer_limit'), 1);
  const other = await open(port, '127.0.0.2');
  assert.equal(await isClosed(other.closed, 200), false, 'another peer still gets in');
  const fourth = await open(port, '127.0.0.3');
  assert.ok(await isClosed(fourth.closed, 2000), 'beyond the port limit, closed');
  assert.equal(await metricValue(registry, 'kawin_grpc_connections_refused_total', 'port_limit'), 1);
  for (const c of [a, b, other]) c.socket.destroy();
  await Promise.all([a.closed, b.closed, other.closed]);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await health(running.target)).Retval, 3, 'freed connections are available again, and gRPC is served');
});

void test('a gRPC connection that sends nothing, or half a preface, is closed at the handshake timeout; one that calls stays', async (t) => {
  const registry = new Registry();
  const running = await startTestServer([logServiceBinding(broker())], {
    registry, connections: { maxConnections: 10, maxConnectionsPerPeer: 10, handshakeTimeoutMs: 300 },
  });
  t.after(() => running.stop());
  const port = running.server.port!;
  const silent = await open(port);
  const half = await open(port);
  half.socket.write('PRI * HTTP/2.0\r\n'); // the preface, never finished
  const client = new LogServiceClient(running.target, insecure(), separateConnection);
  t.after(() => client.close());
  assert.equal((await unary<NonceMessage, ReplyMessage>(client.healthCheck.bind(client), { nonce: 1 })).Retval, 1);
  assert.ok(await isClosed(silent.closed, 3000), 'the silent connection is closed');
  assert.ok(await isClosed(half.closed, 3000), 'the half-sent preface is closed');
  assert.equal(await metricValue(registry, 'kawin_grpc_connections_closed_total', 'handshake_timeout'), 2);
  await new Promise((r) => setTimeout(r, 400));
  assert.equal((await unary<NonceMessage, ReplyMessage>(client.healthCheck.bind(client), { nonce: 2 })).Retval, 2, 'the working connection is kept past the timeout');
  assert.equal(await metricValue(registry, 'kawin_grpc_connections_closed_total', 'handshake_timeout'), 2);
});

void test('a TLS connection that never completes its handshake is closed at the handshake timeout', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-tls-hs-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  makeCerts(dir);
  const registry = new Registry();
  const running = await startTestServer([logServiceBinding(broker())], {
    registry, tls: { certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') },
    connections: { maxConnections: 10, maxConnectionsPerPeer: 10, handshakeTimeoutMs: 300 },
  });
  t.after(() => running.stop());
  const stalled = await open(running.server.port!);
  stalled.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x80])); // a ClientHello record header, then nothing
  assert.ok(await isClosed(stalled.closed, 3000));
  assert.equal(await metricValue(registry, 'kawin_grpc_connections_closed_total', 'handshake_timeout'), 1);
});
