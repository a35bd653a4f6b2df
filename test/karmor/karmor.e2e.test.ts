/**
 * The real karmor (upstream's own client, github.com/kubearmor/kubearmor-client, built by
 * test/tools/build.mjs) against a real agent on the emulator: `karmor vm policy add`
 * and `delete` with a policy file, and `karmor logs --json` with each --logFilter,
 * seeing the alerts and logs of `kawin simulate`-style operations on the emulator.
 *
 * karmor connects a Kubernetes client before any command, even those that never use it:
 * it gets a kubeconfig naming a loopback address nobody listens on (no traffic is sent).
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startHarness, type AgentHarness } from '../agent-harness.js';
import { toolBinary } from '../tools/index.js';
import { policyStatuses } from '../../controller/agent/status.js';
import { Decision } from '../../driver/abi/types.js';
import { karmorEnv } from './env.js';

const run = promisify(execFile);

const POLICY = `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: hsp-karmor-secrets
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/os: windows
  severity: 5
  tags: [secrets]
  message: secret read by karmor's policy
  file:
    matchDirectories:
    - dir: C:\\Secrets\\
      recursive: true
  action: Block
`;

interface Karmor {
  h: AgentHarness;
  address: string;
  file: string;
  karmor(...args: string[]): Promise<string>;
  logs(filter: string): KarmorLogs;
}

interface KarmorLogs {
  lines: Record<string, unknown>[];
  next(pred: (line: Record<string, unknown>) => boolean, what: string): Promise<Record<string, unknown>>;
}

async function setup(t: TestContext): Promise<Karmor> {
  const binary = toolBinary('karmor');
  const h = await startHarness(t);
  const runtime = await h.start({
    sources: { files: { enabled: true, paths: [h.policyDir], debounceMs: 20 }, grpc: { enabled: true } },
    hostTelemetry: { process: true, file: true },
  });
  const address = runtime.grpcAddress!;
  const env = karmorEnv(h.root);
  const file = join(h.root, 'hsp-karmor-secrets.yaml');
  writeFileSync(file, POLICY);
  const children: ChildProcessWithoutNullStreams[] = [];
  t.after(() => { for (const c of children) c.kill('SIGINT'); });
  return {
    h, address, file,
    karmor: async (...args) => (await run(binary, args, { env, timeout: 30_000 })).stdout,
    logs(filter) {
      const child = spawn(binary, ['logs', '--gRPC', address, '--json', '--logFilter', filter], { env });
      children.push(child);
      const lines: Record<string, unknown>[] = [];
      let buffer = '';
      const waiters: { pred: (l: Record<string, unknown>) => boolean; resolve: (l: Record<string, unknown>) => void }[] = [];
      child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
          const text = buffer.slice(0, nl).trim();
          buffer = buffer.slice(nl + 1);
          if (!text.startsWith('{')) continue;
          const line = JSON.parse(text) as Record<string, unknown>;
          lines.push(line);
          for (const w of [...waiters]) if (w.pred(line)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(line); }
        }
      });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (c: string) => { stderr += c; });
      return {
        lines,
        next: (pred, what) => {
          const found = lines.find(pred);
          if (found) return Promise.resolve(found);
          return new Promise((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`karmor logs --logFilter ${filter}: no ${what}; stderr: ${stderr}; got ${JSON.stringify(lines)}`)), 15_000);
            waiters.push({ pred, resolve: (l) => { clearTimeout(timer); resolve(l); } });
          });
        },
      };
    },
  };
}

/** karmor logs checks the server's health and then subscribes: wait until our watch is live. */
async function subscribed(k: Karmor, alerts: number, logs: number): Promise<void> {
  const deadline = Date.now() + 15_000;
  const gauge = k.h.runtime!.agent.metrics.registry.getSingleMetric('kawin_grpc_subscribers')!;
  const count = async (stream: string): Promise<number> => (await gauge.get()).values.find((v) => v.labels.stream === stream)?.value ?? 0;
  while ((await count('alerts')) < alerts || (await count('logs')) < logs) {
    if (Date.now() > deadline) throw new Error('karmor logs did not subscribe');
    await new Promise((r) => setTimeout(r, 50));
  }
}

void test('karmor vm policy add, re-add and delete a policy file: Applied, Applied, Deleted; enforced cleanly in between', async (t) => {
  const k = await setup(t);
  assert.match(await k.karmor('vm', 'policy', 'add', k.file, '--gRPC', k.address), /Policy Applied/);
  await k.h.until((r) => r.length === 1, 'karmor\'s policy in the driver');
  const [status] = policyStatuses(k.h.runtime!.view);
  assert.equal(status!.state, 'applied', `karmor's encoding (empty sections, status {}, creationTimestamp null) applies cleanly: ${JSON.stringify(status!.reasons)}`);
  assert.deepEqual(status!.warnings, []);
  assert.equal(k.h.emulator.machine.simulateFileOpen('C:\\Secrets\\key.pem', { process: 'C:\\Tools\\x.exe' }).decision, Decision.Block);

  // The same file again: the same policy, as upstream answers.
  assert.match(await k.karmor('vm', 'policy', 'add', k.file, '--gRPC', k.address), /Policy Applied/);
  // A changed file: Modified.
  writeFileSync(k.file, POLICY.replace('action: Block', 'action: Audit'));
  assert.match(await k.karmor('vm', 'policy', 'add', k.file, '--gRPC', k.address), /Policy Modified/);
  assert.match(await k.karmor('vm', 'policy', 'delete', k.file, '--gRPC', k.address), /Policy Deleted/);
  await k.h.until((r) => r.length === 0, 'the policy removed from the driver');
  assert.match(await k.karmor('vm', 'policy', 'delete', k.file, '--gRPC', k.address), /Policy NotExist/);
});

void test('karmor logs --json: policy sees alerts, system sees logs, all sees both', async (t) => {
  const k = await setup(t);
  assert.match(await k.karmor('vm', 'policy', 'add', k.file, '--gRPC', k.address), /Policy Applied/);
  await k.h.until((r) => r.length === 1, 'the policy in the driver');
  const policy = k.logs('policy');
  const system = k.logs('system');
  const all = k.logs('all');
  await subscribed(k, 2, 2);

  k.h.emulator.machine.simulateFileOpen('C:\\Secrets\\db\\token.txt', { process: 'C:\\Tools\\curl.exe', pid: 4321 });
  k.h.emulator.machine.simulateProcessCreate('C:\\Windows\\System32\\whoami.exe', { parent: 'C:\\Windows\\explorer.exe' });

  const isAlert = (l: Record<string, unknown>) => l.PolicyName === 'hsp-karmor-secrets';
  const alert = await policy.next(isAlert, 'alert of hsp-karmor-secrets');
  assert.equal(alert.Type, 'MatchedHostPolicy');
  assert.equal(alert.Action, 'Block');
  assert.equal(alert.Resource, 'C:\\Secrets\\db\\token.txt');
  assert.equal(alert.Message, 'secret read by karmor\'s policy');
  await all.next(isAlert, 'alert of hsp-karmor-secrets');
  const isLog = (l: Record<string, unknown>) => l.Type === 'HostLog' && String(l.Resource ?? '').includes('whoami.exe');
  await system.next(isLog, 'host log of whoami.exe');
  await all.next(isLog, 'host log of whoami.exe');
  assert.ok(!policy.lines.some((l) => l.Type === 'HostLog'), 'policy filter: alerts only');
  assert.ok(!system.lines.some(isAlert), 'system filter: logs only');
});
