// The compiled agent (bin/kawin.js on dist/): a table large enough that its APPLY and
// read-back go through the IOCTL thread (the thread's entry must exist in the build), and
// the packages it imports only when asked (server reflection).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { credentials, loadPackageDefinition, type ChannelCredentials, type Client, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { OFF_THREAD_RULES } from '../../driver/client/client.js';
import { hostPolicy, startHarness } from '../agent-harness.js';
import { exitWithin, spawnAgent } from '../agent-process.js';

void test('compiled: the agent applies a table larger than one on-thread APPLY', async (t) => {
  const h = await startHarness(t);
  const rules = OFF_THREAD_RULES + 100;
  const paths = Array.from({ length: rules }, (_, i) => `      - path: C:\\Big\\tool${i}.exe`).join('\n');
  h.writePolicy('big.yaml', hostPolicy('big', `  file:\n    matchPaths:\n${paths}\n  action: Block\n`));
  const agent = await spawnAgent(h);
  t.after(() => agent.child.kill('SIGKILL'));
  assert.equal((await h.probe.getState()).ruleCount, rules, agent.output());
  assert.equal((await h.probe.listRules()).rules.length, rules);
  agent.child.kill('SIGTERM');
  assert.equal(await exitWithin(agent, 15_000), 0);
});

void test('compiled: server reflection loads its packages on the first call and lists the services', async (t) => {
  const h = await startHarness(t);
  const agent = await spawnAgent(h, { extra: { grpc: { address: '127.0.0.1:0' } } });
  t.after(() => agent.child.kill('SIGKILL'));
  const port = /"msg":"gRPC server listening"[^\n]*"port":(\d+)/.exec(agent.output())?.[1];
  assert.ok(port, agent.output());
  const proto = join(createRequire(import.meta.url).resolve('@grpc/reflection/package.json'), '..', 'build/proto/grpc/reflection/v1/reflection.proto');
  const pkg = loadPackageDefinition(loadSync(proto)) as unknown as { grpc: { reflection: { v1: { ServerReflection: new (target: string, c: ChannelCredentials) => Client & { ServerReflectionInfo(): ClientDuplexStream<unknown, { listServicesResponse?: { service: { name: string }[] } }> } } } } };
  const client = new pkg.grpc.reflection.v1.ServerReflection(`127.0.0.1:${port}`, credentials.createInsecure());
  const call = client.ServerReflectionInfo();
  const names = await new Promise<string[]>((resolve, reject) => {
    call.on('data', (r: { listServicesResponse?: { service: { name: string }[] } }) => resolve(r.listServicesResponse?.service.map((s) => s.name) ?? []));
    call.on('error', reject);
    call.write({ listServices: '*' });
  });
  call.end();
  client.close();
  assert.ok(names.includes('feeder.LogService') && names.includes('grpc.health.v1.Health'), names.join(', '));
  agent.child.kill('SIGTERM');
  assert.equal(await exitWithin(agent, 15_000), 0);
});
