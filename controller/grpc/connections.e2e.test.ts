/**
 * Issue 9, finding 8: a connection flood at the descriptor limit. The agent runs as its
 * own process under a low RLIMIT_NOFILE; far more gRPC connections than it has
 * descriptors are opened and held. The surplus is refused at accept, and health, a
 * policy edit (a file read) and the driver keep working.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { once } from 'node:events';
import { hostPolicy, startHarness } from '../../test/agent-harness.js';
import { exitWithin, spawnAgent } from '../../test/agent-process.js';

const LIMIT = 400;
const FLOOD = 1000;

const block = (name: string, exe: string) => hostPolicy(name, `  process:
    matchPaths:
      - path: C:\\Windows\\System32\\${exe}
  action: Block
`);

function listening(output: () => string, msg: string, field: string): string {
  const line = output().split('\n').find((l) => l.includes(`"msg":"${msg}"`));
  assert.ok(line, `the agent logged '${msg}'`);
  return String((JSON.parse(line) as Record<string, unknown>)[field]);
}

async function opened(port: number): Promise<Socket | undefined> {
  const socket = connect({ port, host: '127.0.0.1' });
  socket.on('error', () => {});
  return once(socket, 'connect').then(() => socket, () => undefined);
}

void test('a gRPC connection flood at the descriptor limit is refused; health, policy reads and the driver keep working', { skip: process.platform !== 'linux' }, async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', block('block-cmd', 'cmd.exe'));
  const agent = await spawnAgent(h, {
    wrapper: ['prlimit', `--nofile=${LIMIT}:${LIMIT}`, '--'],
    extra: { metrics: { enabled: true, address: '127.0.0.1:0' }, grpc: { address: '127.0.0.1:0', handshakeTimeoutSeconds: 600 } },
  });
  const sockets: Socket[] = [];
  t.after(async () => {
    for (const s of sockets) s.destroy();
    agent.child.kill('SIGTERM');
    await exitWithin(agent, 15_000);
  });
  const grpcPort = Number(listening(agent.output, 'gRPC listening', 'address').split(':').pop());
  const url = listening(agent.output, 'metrics and health listening', 'url');
  for (let i = 0; i < FLOOD; i++) {
    const s = await opened(grpcPort);
    if (s) sockets.push(s);
  }
  await new Promise((r) => setTimeout(r, 300));
  const metrics = await (await fetch(`${url}/metrics`)).text();
  const value = (series: string) => Number(metrics.split('\n').find((l) => l.startsWith(`${series} `))?.split(' ').pop() ?? 0);
  assert.equal(value('kawin_descriptor_limit'), LIMIT);
  const cap = value('kawin_connections_max{port="grpc"}');
  assert.ok(cap < LIMIT - 256, `gRPC bound ${cap} leaves the reserve free`);
  assert.equal(value('kawin_grpc_connections'), cap, 'the port holds its bound, no more');
  assert.ok(value('kawin_grpc_connections_refused_total{reason="port_limit"}') + value('kawin_grpc_connections_refused_total{reason="peer_limit"}') >= FLOOD - cap);
  assert.equal((await fetch(`${url}/healthz`)).status, 200, 'health answers during the flood');
  h.writePolicy('certutil.yaml', block('block-certutil', 'certutil.exe'));
  await h.until((rules) => rules.length === 2, 'the policy edited during the flood, read and applied');
  assert.equal((await fetch(`${url}/readyz`)).status, 200);
  assert.doesNotMatch(agent.output(), /EMFILE|ENFILE/, 'no open of the agent failed');
});
