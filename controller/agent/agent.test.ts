import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeClock } from '../clock/index.js';
import { parseConfig } from '../config/index.js';
import { MemoryLogger } from '../observability/index.js';
import { startAgentRuntime } from './runtime.js';
import { policyStatuses } from './status.js';
import { hostPolicy, startHarness, type AgentHarness } from '../../test/agent-harness.js';

const CMD = hostPolicy('block-cmd', `  process:
    matchPaths:
      - path: C:\\Windows\\System32\\cmd.exe
  action: Block
`);
const HOSTS = hostPolicy('protect-hosts', `  file:
    matchPaths:
      - path: C:\\Windows\\System32\\drivers\\etc\\hosts
        readOnly: true
  action: Block
`);

async function generation(h: AgentHarness): Promise<bigint> {
  return (await h.probe.getState()).generation;
}

async function metric(h: AgentHarness, name: string, labels = ''): Promise<number> {
  const text = await h.runtime!.agent.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.split(' ').pop()) : 0;
}

async function ready(h: AgentHarness): Promise<void> {
  await h.eventually(() => h.runtime!.view.reconcile.firstApplyDone, 'the first apply');
  await h.runtime!.agent.whenIdle();
}

void test('a policy file added, changed, made invalid and deleted: the driver table follows', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  await h.start();
  await h.until((r) => r.length === 1, 'the cmd.exe rule');
  assert.deepEqual(h.paths((await h.probe.listRules()).rules), ['\\Device\\HarddiskVolume3\\Windows\\System32\\cmd.exe']);
  h.writePolicy('cmd.yaml', CMD.replace('cmd.exe', 'certutil.exe'));
  await h.until((r) => r.length === 1 && r[0]!.target.path.endsWith('certutil.exe'), 'the certutil.exe rule');
  h.writePolicy('cmd.yaml', CMD.replace('path: C:', 'path: relative'));
  // The invalid version is rejected with its location…
  const problems = () => policyStatuses(h.runtime!.view).flatMap((p) => p.problems);
  await h.eventually(() => problems().some((p) => p.path?.includes('spec.process.matchPaths[0].path') && p.line === 11), 'the invalid version rejected with its location')
    .catch((error: Error) => assert.fail(`${error.message}: ${JSON.stringify(problems())}`));
  // …and, once whatever it triggered is done, the previous version stays in force.
  await h.runtime!.agent.whenIdle();
  assert.deepEqual(h.paths((await h.probe.listRules()).rules), ['\\Device\\HarddiskVolume3\\Windows\\System32\\certutil.exe']);
  h.deletePolicy('cmd.yaml');
  await h.until((r) => r.length === 0, 'an empty table');
});

void test('nothing is written before the sources are in sync, and a restart with unchanged state writes nothing', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  h.writePolicy('hosts.yaml', HOSTS);
  await h.start();
  await ready(h);
  assert.equal((await h.probe.listRules()).rules.length, 2);
  const before = await generation(h);
  assert.equal(before, 1n, 'the whole desired set landed as one APPLY');
  await h.stopAgent();
  // The driver outlives the agent: enforcement continues while no agent runs.
  assert.equal((await h.probe.listRules()).rules.length, 2);
  await h.start();
  await ready(h);
  assert.equal(await generation(h), before, 'the restarted agent wrote nothing');
  assert.equal(await metric(h, 'kawin_ioctl_calls_total', '{operation="apply"}'), 0);
});

void test('out-of-band removal is detected and corrected at the next resync, and counted', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  h.writePolicy('hosts.yaml', HOSTS);
  await h.start();
  await ready(h);
  const [victim] = (await h.probe.listRules()).rules;
  await h.probe.removeRules([victim!.id]);
  assert.equal((await h.probe.listRules()).rules.length, 1);
  h.runtime!.agent.resyncNow(); // what the periodic resync timer does
  await h.until((r) => r.length === 2, 'the removed rule restored');
  await h.runtime!.agent.whenIdle();
  assert.equal(await metric(h, 'kawin_drift_corrections_total'), 1);
});

void test('injected IOCTL failures: the agent retries with backoff, converges, and metrics show the failures', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  await h.start({ reconcile: { backoff: { initialMs: 5, maxMs: 50 } } });
  await ready(h);
  h.emulator.machine.injectFault('APPLY', 3);
  h.emulator.machine.injectFault('LIST_RULES', 2);
  h.writePolicy('hosts.yaml', HOSTS);
  await h.until((r) => r.length === 2, 'both rules despite failures');
  // Only the agent applies (the test's probe only lists), so every APPLY fault was the agent's.
  assert.equal(await metric(h, 'kawin_ioctl_errors_total', '{operation="apply"}'), 3);
  assert.ok(await metric(h, 'kawin_workqueue_retries_total', '{name="reconcile"}') >= 3);
  assert.ok(await metric(h, 'kawin_reconciles_total', '{result="error"}') >= 3);
});

void test('readiness goes red while IOCTLs fail, and green again once they succeed', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  await h.start({ reconcile: { backoff: { initialMs: 20, maxMs: 50 } } });
  await ready(h);
  assert.equal(h.runtime!.agent.readiness().ok, true);
  h.emulator.machine.injectFault('APPLY', 1_000_000);
  h.writePolicy('hosts.yaml', HOSTS);
  await h.eventually(() => !h.runtime!.agent.readiness().ok, 'readiness red while every APPLY fails');
  const red = h.runtime!.agent.readiness().checks.find((c) => !c.ok);
  assert.match(red?.reason ?? '', /last reconcile failed/);
  h.emulator.machine.reset(); // clears the faults (and the table: the agent re-applies it)
  await h.until((r) => r.length === 2, 'both rules once the faults stop');
  await h.runtime!.agent.whenIdle();
  assert.equal(h.runtime!.agent.readiness().ok, true);
});

void test('a driver reload (table cleared) is followed by a full re-apply', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  h.writePolicy('hosts.yaml', HOSTS);
  await h.start({ reconcile: { backoff: { initialMs: 5, maxMs: 50 } } });
  await ready(h);
  h.emulator.machine.reload();
  await h.until((r) => r.length === 2, 'the table re-applied after the reload');
});

void test('a failing source prunes nothing; its recovery reconciles', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  await h.start();
  await ready(h);
  const moved = join(h.root, 'moved-away');
  renameSync(h.policyDir, moved);
  await h.eventually(() => h.runtime!.view.desired.sourceStatus()[0]?.error, 'the failure reported');
  await h.runtime!.agent.whenIdle();
  assert.equal((await h.probe.listRules()).rules.length, 1, 'the rules stay while the directory is missing');
  mkdirSync(h.policyDir);
  h.writePolicy('hosts.yaml', HOSTS);
  await h.runtime!.agent.rescan();
  await h.until((r) => r.length === 1 && r[0]!.target.path.endsWith('hosts'), 'the recovered directory reconciled');
});

void test('the driver unloaded under a running agent: not ready, then loaded again and fully re-applied', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  h.writePolicy('hosts.yaml', HOSTS);
  await h.start({ reconcile: { backoff: { initialMs: 5, maxMs: 50 } } });
  await ready(h);
  h.emulator.machine.shutdown();
  await h.eventually(() => !h.runtime!.view.driver.connected, 'the agent noticing the driver is gone');
  // The agent loads the (emulated) driver again, as it would FilterLoad the minifilter.
  const deadline2 = Date.now() + 10_000;
  const count = async (): Promise<number> => {
    const fresh = await h.emulator.client().catch(() => undefined);
    const table = await fresh?.listRules().catch(() => undefined);
    await fresh?.close();
    return table?.rules.length ?? -1;
  };
  while ((await count()) !== 2) {
    if (Date.now() > deadline2) throw new Error('the rules were not re-applied');
    await new Promise((r) => setTimeout(r, 20));
  }
});

void test('the periodic resync reads the whole table back on schedule (fake clock), writing nothing when in sync', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  const clock = new FakeClock(Date.now());
  await h.start({ reconcile: { resyncIntervalSeconds: 60, resyncJitter: 0.1 } }, clock);
  await ready(h);
  assert.equal(await metric(h, 'kawin_initial_sync_duration_seconds'), 0, 'measured on the agent\'s clock, where no time passed');
  const lists = (): Promise<number> => metric(h, 'kawin_ioctl_calls_total', '{operation="list_rules"}');
  const before = await lists();
  const generation = (await h.probe.getState()).generation;
  await clock.advanceAsync(50_000); // before the earliest jittered resync (54 s)
  await h.runtime!.agent.whenIdle();
  assert.equal(await lists(), before, 'no read-back before the interval');
  await clock.advanceAsync(20_000); // past the latest (66 s)
  await h.runtime!.agent.whenIdle();
  assert.equal(await lists(), before + 1, 'one full read-back');
  assert.equal((await h.probe.getState()).generation, generation, 'nothing written');
});

void test('a second agent on the same driver writes nothing and stops with the port conflict', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  await h.start();
  await ready(h);
  const generation = (await h.probe.getState()).generation;
  // The second agent wants a different table (the hosts policy only).
  const otherDir = join(h.root, 'other');
  mkdirSync(otherDir);
  writeFileSync(join(otherDir, 'hosts.yaml'), HOSTS);
  const config = parseConfig(JSON.stringify({
    ...h.rawConfig(), stateDir: join(h.root, 'state2'),
    sources: { files: { enabled: true, paths: [otherDir], debounceMs: 20 }, grpc: { enabled: false } },
  }));
  const second = await startAgentRuntime({ config, logger: new MemoryLogger(), watchConfig: false });
  t.after(() => second.stop());
  await assert.rejects(second.fatal, (e: Error) => e.name === 'PortConnectionLimitError');
  await second.agent.whenIdle();
  assert.equal((await h.probe.getState()).generation, generation, 'the second agent wrote nothing');
  assert.deepEqual(h.paths((await h.probe.listRules()).rules), ['\\Device\\HarddiskVolume3\\Windows\\System32\\cmd.exe']);
});
