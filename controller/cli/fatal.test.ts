import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type AddressInfo } from 'node:net';
import { once } from 'node:events';
import { hostPolicy, startHarness } from '../../test/agent-harness.js';
import { FAULT_INJECT, exitWithin, spawnAgent, type AgentProcess } from '../../test/agent-process.js';

const CMD = hostPolicy('block-cmd', `  process:
    matchPaths:
      - path: C:\\Windows\\System32\\cmd.exe
  action: Block
`);
/** A fatal error must end the process within this (the bounded shutdown plus process exit). */
const PROMPT_EXIT_MS = 15_000;
const METRICS = { metrics: { enabled: true, address: '127.0.0.1:0' } };

function metricsUrl(agent: AgentProcess): string {
  const match = /"url":"(http:\/\/[^"]+)"/.exec(agent.output());
  assert.ok(match, `no metrics url logged:\n${agent.output()}`);
  return match[1]!;
}

/** Sends raw bytes (a request line `fetch` would refuse to send) and returns the status line. */
async function rawRequest(url: string, requestLine: string): Promise<string> {
  const { hostname, port } = new URL(url);
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.end(`${requestLine}\r\nHost: x\r\n\r\n`);
  let reply = '';
  socket.on('data', (d: Buffer) => { reply += d.toString(); });
  await once(socket, 'close');
  return reply.split('\r\n')[0] ?? '';
}

void test('request targets that are not URLs answer 400 and the agent keeps serving', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  const agent = await spawnAgent(h, { extra: METRICS });
  t.after(() => agent.child.kill('SIGKILL'));
  const url = metricsUrl(agent);
  for (const line of ['GET //[ HTTP/1.1', 'GET //x:y HTTP/1.1', 'GET //@ HTTP/1.1', 'GET //a:99999999/ HTTP/1.1', 'GET http://[::1 HTTP/1.1']) {
    assert.match(await rawRequest(url, line), /^HTTP\/1\.1 400 /, line);
  }
  assert.equal((await fetch(`${url}/healthz`)).status, 200);
  assert.equal(agent.child.exitCode, null, 'the agent is still running');
  agent.child.kill('SIGTERM');
  assert.equal(await exitWithin(agent, PROMPT_EXIT_MS), 0);
});

for (const fault of ['throw', 'reject'] as const) {
  void test(`an ${fault === 'throw' ? 'uncaught exception' : 'unhandled rejection'} ends the agent promptly and frees the driver's port`, async (t) => {
    const h = await startHarness(t);
    h.writePolicy('cmd.yaml', CMD);
    const first = await spawnAgent(h, { nodeArgs: ['--import', FAULT_INJECT], env: { KAWIN_TEST_FAULT: fault } });
    t.after(() => first.child.kill('SIGKILL'));
    first.child.kill('SIGUSR2');
    const code = await exitWithin(first, PROMPT_EXIT_MS);
    assert.ok(code > 0, `exit code ${code}: a fatal error exits non-zero, by itself`);
    assert.match(first.output(), /"msg":"fatal error: shutting down".*injected fault/, 'the fatal error is logged by the agent');
    // The port is free: a new agent connects to it and applies (it never could while the old one lingered).
    const second = await spawnAgent(h);
    t.after(() => second.child.kill('SIGKILL'));
    assert.equal((await h.probe.listRules()).rules.length, 1);
    second.child.kill('SIGTERM');
    assert.equal(await exitWithin(second, PROMPT_EXIT_MS), 0);
  });
}

void test('a failed start-up exits non-zero at once, leaving nothing running', async (t) => {
  const h = await startHarness(t);
  const taken = createServer();
  taken.listen(0, '127.0.0.1');
  await once(taken, 'listening');
  t.after(() => taken.close());
  const address = `127.0.0.1:${(taken.address() as AddressInfo).port}`;
  const agent = spawnAgent(h, { extra: { metrics: { enabled: true, address } }, readyText: 'never printed', timeoutMs: PROMPT_EXIT_MS });
  const failure = await agent.then(() => undefined, (error: Error) => error);
  assert.ok(failure, 'start-up failed');
  assert.match(failure.message, /agent exited \(1\)/);
  assert.match(failure.message, /cannot listen on 127\.0\.0\.1:\d+ for metrics and health/);
});
