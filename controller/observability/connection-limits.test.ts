import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { createAgentMetrics, startObservabilityServer } from './index.js';

const LIMITS = { maxConnections: 3, maxConnectionsPerPeer: 2, idleTimeoutMs: 400, requestTimeoutMs: 400 };

async function open(port: number, from = '127.0.0.1'): Promise<{ socket: Socket; closed: Promise<string> }> {
  const socket = connect({ port, host: '127.0.0.1', localAddress: from });
  let data = '';
  socket.on('data', (d: Buffer) => { data += d.toString(); });
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => data);
  await once(socket, 'connect');
  return { socket, closed };
}

const isClosed = (c: Promise<string>, ms: number) => Promise.race([c.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

async function metricValue(metrics: ReturnType<typeof createAgentMetrics>, name: string, reason: string): Promise<number> {
  const m = await metrics.registry.getSingleMetric(name)?.get();
  return m?.values.find((v) => v.labels.reason === reason)?.value ?? 0;
}

void test('connections are bounded per peer and per port; each refusal is counted', async (t) => {
  const metrics = createAgentMetrics({ version: 'test', node: 'n' });
  const server = await startObservabilityServer({ address: '127.0.0.1:0', registry: metrics.registry, health: { readiness: () => ({ ok: true, checks: [] }) }, limits: { ...LIMITS, idleTimeoutMs: 60_000, requestTimeoutMs: 60_000 } });
  t.after(() => server.close());
  const a = await open(server.port);
  const b = await open(server.port);
  const third = await open(server.port);
  assert.ok(await isClosed(third.closed, 2000), 'a third connection from the same peer is closed');
  assert.equal(await metricValue(metrics, 'kawin_http_connections_refused_total', 'peer_limit'), 1);
  const other = await open(server.port, '127.0.0.2');
  assert.equal(await isClosed(other.closed, 200), false, 'another peer still gets in');
  const fourth = await open(server.port, '127.0.0.3');
  assert.ok(await isClosed(fourth.closed, 2000), 'beyond the port limit, closed');
  assert.equal(await metricValue(metrics, 'kawin_http_connections_refused_total', 'port_limit'), 1);
  for (const c of [a, b, other]) c.socket.destroy();
  await Promise.all([a.closed, b.closed, other.closed]);
  await new Promise((r) => setTimeout(r, 50));
  assert.equal((await fetch(`${server.url}/healthz`)).status, 200, 'freed connections are available again');
});

void test('a half-sent request, or none, is answered 408 and closed; an idle keep-alive connection is closed', async (t) => {
  const metrics = createAgentMetrics({ version: 'test', node: 'n' });
  const server = await startObservabilityServer({ address: '127.0.0.1:0', registry: metrics.registry, health: { readiness: () => ({ ok: true, checks: [] }) }, limits: { ...LIMITS, idleTimeoutMs: 800, requestTimeoutMs: 300 } });
  t.after(() => server.close());
  const slow = await open(server.port);
  slow.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n'); // never finished
  const silent = await open(server.port, '127.0.0.2');
  const idle = await open(server.port, '127.0.0.3');
  idle.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n'); // answered, then kept alive and idle
  assert.match(await slow.closed, /^HTTP\/1\.1 408 /);
  assert.match(await silent.closed, /^HTTP\/1\.1 408 /);
  assert.equal(await metricValue(metrics, 'kawin_http_connections_closed_total', 'request_timeout'), 2);
  assert.match(await idle.closed, /^HTTP\/1\.1 200 /);
  assert.equal(await metricValue(metrics, 'kawin_http_connections_closed_total', 'idle'), 1);
});
