/**
 * Issue 5 end to end, through the whole agent on the emulator: policies applied with
 * PolicyService (as `karmor vm policy add` sends them) are enforced by the driver, and the
 * decisions reach a LogService subscriber as KubeArmor alerts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { LogServiceClient, type Alert } from '../../proto/gen/feeder.js';
import { PolicyServiceClient, PolicyStatus } from '../../proto/gen/policy.js';
import { Decision } from '../../driver/abi/types.js';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHarness, type AgentHarness } from '../../test/agent-harness.js';
import { promtoolCheck, requireTool, startPrometheus, waitForSeries } from '../../test/prometheus.js';
import { makeCerts } from '../../test/certs.js';
import { command as statusCommand } from '../cli/commands/status.js';
import { command as logsCommand } from '../cli/commands/logs.js';

const GRPC = { sources: { files: { enabled: true, paths: [] as string[], debounceMs: 20 }, grpc: { enabled: true } } };

function hostPolicy(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return {
    apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorHostPolicy', metadata: { name },
    spec: { nodeSelector: { matchLabels: { 'kubernetes.io/os': 'windows' } }, ...spec },
  };
}

function send(client: PolicyServiceClient, type: string, object: unknown): Promise<PolicyStatus> {
  const policy = Buffer.from(JSON.stringify({ type, object }));
  return new Promise((resolve, reject) => client.hostPolicy({ policy }, (e, r) => (e ? reject(e) : resolve(r.status))));
}

/**
 * Collects alerts from WatchAlerts; `next(pred)` resolves with the first matching one, and
 * fails after 10 s rather than hang. `poke` (the simulated event) is repeated every 100 ms
 * until then: an event sent before the new stream is registered reaches no subscriber.
 */
function subscribe(address: string): { next(pred: (a: Alert) => boolean, poke?: () => void): Promise<Alert>; close(): void } {
  const client = new LogServiceClient(address, credentials.createInsecure());
  const stream: ClientReadableStream<Alert> = client.watchAlerts({ Filter: 'policy' });
  const seen: Alert[] = [];
  const waiters: { pred: (a: Alert) => boolean; resolve: (a: Alert) => void }[] = [];
  stream.on('data', (a: Alert) => {
    seen.push(a);
    for (const w of [...waiters]) if (w.pred(a)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(a); }
  });
  stream.on('error', () => {});
  return {
    next: (pred, poke) => {
      const found = seen.find(pred);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timers = [
          setTimeout(() => reject(new Error(`no matching alert in 10 s; seen: ${JSON.stringify(seen.map((a) => a.PolicyName))}`)), 10_000),
          ...(poke ? [setInterval(poke, 100)] : []),
        ];
        waiters.push({ pred, resolve: (a) => { timers.forEach(clearTimeout); resolve(a); } });
        poke?.();
      });
    },
    close: () => { stream.cancel(); client.close(); },
  };
}

async function start(h: AgentHarness): Promise<{ address: string; policies: PolicyServiceClient }> {
  GRPC.sources.files.paths = [h.policyDir];
  const runtime = await h.start(GRPC);
  const address = runtime.grpcAddress!;
  return { address, policies: new PolicyServiceClient(address, credentials.createInsecure()) };
}

void test('a policy applied over gRPC blocks, audits and sets the posture; subscribers get upstream-shaped alerts', async (t) => {
  const h = await startHarness(t);
  const { address, policies } = await start(h);
  t.after(() => policies.close());
  const alerts = subscribe(address);
  t.after(() => alerts.close());

  assert.equal(await send(policies, 'ADDED', hostPolicy('hsp-secrets', {
    severity: 7, tags: ['secrets', 'T1552'], message: 'secret read',
    file: { matchDirectories: [{ dir: 'C:\\Secrets\\', recursive: true }] }, action: 'Block',
  })), PolicyStatus.Applied);
  assert.equal(await send(policies, 'ADDED', hostPolicy('hsp-audit-logs', {
    file: { matchPaths: [{ path: '/C:/Logs/app.log' }] }, action: 'Audit',
  })), PolicyStatus.Applied);
  await h.until((r) => r.length === 2, 'both gRPC policies in the driver');

  const blocked = h.emulator.machine.simulateFileOpen('C:\\Secrets\\db\\token.txt', { process: 'C:\\Tools\\curl.exe', pid: 700 });
  assert.equal(blocked.decision, Decision.Block);
  const alert = await alerts.next((a) => a.PolicyName === 'hsp-secrets');
  assert.equal(alert.Type, 'MatchedHostPolicy');
  assert.equal(alert.Severity, '7');
  assert.equal(alert.Tags, 'secrets,T1552');
  assert.deepEqual(alert.ATags, ['secrets', 'T1552']);
  assert.equal(alert.Message, 'secret read');
  assert.equal(alert.Action, 'Block');
  assert.equal(alert.Result, 'Permission denied');
  assert.equal(alert.Operation, 'File');
  assert.equal(alert.Resource, 'C:\\Secrets\\db\\token.txt', 'paths in DOS form');
  assert.equal(alert.Source, 'C:\\Tools\\curl.exe');
  assert.equal(alert.HostName, 'test-node');
  assert.equal(alert.PID, 700);
  assert.match(alert.UpdatedTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  h.emulator.machine.simulateFileOpen('C:\\Logs\\app.log', { process: 'C:\\Tools\\tail.exe' });
  const audit = await alerts.next((a) => a.PolicyName === 'hsp-audit-logs');
  assert.equal(audit.Action, 'Audit');
  assert.equal(audit.Result, 'Passed');

  // An Allow rule makes processes an allow-list: anything else gets the default posture.
  assert.equal(await send(policies, 'ADDED', hostPolicy('hsp-allow-notepad', {
    process: { matchPaths: [{ path: 'C:\\Windows\\System32\\notepad.exe' }] }, action: 'Allow',
  })), PolicyStatus.Applied);
  await h.until((r) => r.length === 3, 'the allow rule');
  h.emulator.machine.simulateProcessCreate('C:\\Windows\\System32\\calc.exe', { parent: 'C:\\Windows\\explorer.exe' });
  const posture = await alerts.next((a) => a.PolicyName === 'DefaultPosture');
  assert.equal(posture.Action, 'Audit');
  assert.equal(posture.Operation, 'Process');
  assert.equal(posture.Result, 'Passed');
});

void test('update, delete and restart behave as upstream: Modified, Deleted, NotExist, restored after restart', async (t) => {
  const h = await startHarness(t);
  let { policies } = await start(h);
  const policy = hostPolicy('hsp-cmd', { process: { matchPaths: [{ path: 'C:\\Windows\\System32\\cmd.exe' }] }, action: 'Block' });
  assert.equal(await send(policies, 'ADDED', policy), PolicyStatus.Applied);
  assert.equal(await send(policies, 'ADDED', policy), PolicyStatus.Applied, 'identical: Applied');
  const changed = hostPolicy('hsp-cmd', { process: { matchPaths: [{ path: 'C:\\Windows\\System32\\wscript.exe' }] }, action: 'Block' });
  assert.equal(await send(policies, 'ADDED', changed), PolicyStatus.Modified);
  await h.until((r) => r.length === 1 && r[0]!.target.path.endsWith('wscript.exe'), 'the modified rule');
  const generation = (await h.probe.getState()).generation;

  // An invalid policy is refused without touching what is in force.
  const bad = hostPolicy('hsp-cmd', { process: { matchPaths: [{ path: 'wscript.exe' }] }, action: 'Block' });
  assert.equal(await send(policies, 'ADDED', bad), PolicyStatus.Invalid);
  assert.equal(await send(policies, 'ADDED', { metadata: { name: '' }, spec: {} }), PolicyStatus.Invalid);

  policies.close();
  await h.stopAgent();
  ({ policies } = await start(h));
  t.after(() => policies.close());
  await h.runtime!.agent.whenIdle();
  while (!h.runtime!.view.reconcile.firstApplyDone) await new Promise((r) => setTimeout(r, 10));
  assert.equal((await h.probe.getState()).generation, generation, 'restored from the state dir: nothing rewritten');

  assert.equal(await send(policies, 'DELETED', changed), PolicyStatus.Deleted);
  await h.until((r) => r.length === 0, 'the deleted policy removed');
  assert.equal(await send(policies, 'DELETED', changed), PolicyStatus.NotExist);
});

void test("a real Prometheus scrapes the running agent's /metrics, and promtool finds nothing to report", async (t) => {
  requireTool('prometheus');
  requireTool('promtool');
  const h = await startHarness(t);
  GRPC.sources.files.paths = [h.policyDir];
  h.writePolicy('cmd.yaml', `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: block-cmd
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/os: windows
  process:
    matchPaths:
      - path: C:\\Windows\\System32\\cmd.exe
  action: Block
`);
  const runtime = await h.start({ ...GRPC, metrics: { enabled: true, address: '127.0.0.1:0' } });
  await h.until((r) => r.length === 1, 'the rule applied');
  const alerts = subscribe(runtime.grpcAddress!);
  t.after(() => alerts.close());
  await alerts.next((a) => a.PolicyName === 'block-cmd',
    () => h.emulator.machine.simulateProcessCreate('C:\\Windows\\System32\\cmd.exe', { parent: 'C:\\Windows\\explorer.exe' }));

  const body = await (await fetch(`${runtime.http!.url}/metrics`)).text();
  assert.equal(promtoolCheck(body), '', 'promtool check metrics reports no problems');
  assert.match(body, /^kawin_rules_applied 1$/m);
  assert.match(body, /^kawin_policies\{state="applied"\} 1$/m);
  const ready = await fetch(`${runtime.http!.url}/readyz?verbose`);
  assert.equal(ready.status, 200, await ready.clone().text());

  const dir = mkdtempSync(join(tmpdir(), 'kawin-prom-'));
  const prometheus = await startPrometheus(dir, `127.0.0.1:${runtime.http!.port}`);
  t.after(() => { prometheus.proc.kill(); rmSync(dir, { recursive: true, force: true }); });
  const series = await waitForSeries(prometheus.url, 'kawin_rules_applied', prometheus.proc, 60_000);
  assert.equal(series[0]!.value[1], '1');
  const events = await waitForSeries(prometheus.url, 'sum(kawin_events_received_total)', prometheus.proc, 60_000);
  assert.ok(Number(events[0]!.value[1]) >= 1);
});

void test('with mutual TLS configured, the CLI connects with client certificates and plaintext is refused', async (t) => {
  const h = await startHarness(t);
  const certs = join(h.root, 'certs');
  mkdirSync(certs);
  makeCerts(certs);
  const tls = { certFile: join(certs, 'server.crt'), keyFile: join(certs, 'server.key'), clientCaFile: join(certs, 'ca.crt') };
  GRPC.sources.files.paths = [h.policyDir];
  const runtime = await h.start({ ...GRPC, grpc: { address: '127.0.0.1:0', tls } });
  // Ready once the first pass has applied (its IOCTLs run on the IOCTL thread, after start resolves).
  await h.eventually(() => runtime.view.reconcile.firstApplyDone, 'the first apply');
  const address = runtime.grpcAddress!;
  const out: string[] = [];
  const io = { stdout: (s: string) => out.push(s), stderr: (s: string) => out.push(s), isTTY: false };
  const clientTls = ['--address', address, '--tls-ca', join(certs, 'ca.crt'), '--tls-cert', join(certs, 'client.crt'), '--tls-key', join(certs, 'client.key')];
  assert.equal(await statusCommand.run([...clientTls, '--output', 'json'], io), 0, out.join('\n'));
  assert.equal(JSON.parse(out.at(-1)!).agent.ready, true);
  out.length = 0;
  assert.equal(await statusCommand.run(['--address', address], io), 1, 'plaintext is refused');
  assert.match(out.join('\n'), /cannot reach kawin/);

  // The live stream over mutual TLS: an alert arrives.
  const lines: string[] = [];
  const watching = logsCommand.run([...clientTls, '--json'], { stdout: (s) => lines.push(s), stderr: () => {}, isTTY: false }).catch(() => 1);
  const policies = new PolicyServiceClient(address, credentials.createSsl(readFileSync(join(certs, 'ca.crt')), readFileSync(join(certs, 'client.key')), readFileSync(join(certs, 'client.crt'))));
  t.after(() => policies.close());
  assert.equal(await send(policies, 'ADDED', hostPolicy('hsp-tls', { process: { matchPaths: [{ path: 'C:\\Tools\\nc.exe' }] }, action: 'Block' })), PolicyStatus.Applied);
  await h.until((r) => r.length === 1, 'the policy applied over mTLS');
  const deadline = Date.now() + 10_000;
  while (!lines.some((l) => l.includes('hsp-tls'))) {
    if (Date.now() > deadline) throw new Error(`no alert over mTLS: ${lines.join('\n')}`);
    h.emulator.machine.simulateProcessCreate('C:\\Tools\\nc.exe', { parent: 'C:\\Windows\\explorer.exe' });
    await new Promise((r) => setTimeout(r, 100));
  }
  process.emit('SIGINT'); // what Ctrl-C does: `kawin logs` stops cleanly
  assert.equal(await watching, 0);
});
