import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostPolicy, startHarness, type AgentHarness } from '../../test/agent-harness.js';
import { policyStatuses } from './status.js';

const C_VOLUME = '\\Device\\HarddiskVolume3';
const Q_VOLUME = '\\Device\\HarddiskVolume9';

const CMD = hostPolicy('block-cmd', `  process:
    matchPaths:
      - path: C:\\Windows\\System32\\cmd.exe
  action: Block
`);
const USB = hostPolicy('usb-secrets', `  file:
    matchPaths:
      - path: Q:\\secrets\\keys.txt
  action: Block
`);
const MIXED = hostPolicy('mixed', `  file:
    matchPaths:
      - path: C:\\data\\payroll.xlsx
      - path: Q:\\data\\payroll.xlsx
  action: Block
`);

async function ready(h: AgentHarness): Promise<void> {
  await h.eventually(() => h.runtime!.view.reconcile.firstApplyDone, 'the first apply');
  await h.runtime!.agent.whenIdle();
}

const statusOf = (h: AgentHarness, name: string) => policyStatuses(h.runtime!.view).find((p) => p.name === name)!;

async function metric(h: AgentHarness, name: string, labels: string): Promise<number> {
  const text = await h.runtime!.agent.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.split(' ').pop()) : Number.NaN;
}

void test('a policy on a volume the node lacks never stops the others, and is applied when the volume appears', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  h.writePolicy('usb.yaml', USB);
  h.writePolicy('mixed.yaml', MIXED);
  await h.start();
  await ready(h);
  assert.deepEqual(h.paths((await h.probe.listRules()).rules), [
    `${C_VOLUME}\\Windows\\System32\\cmd.exe`, `${C_VOLUME}\\data\\payroll.xlsx`,
  ]);
  assert.equal(statusOf(h, 'block-cmd').state, 'applied');
  const usb = statusOf(h, 'usb-secrets');
  assert.equal(usb.state, 'invalid');
  assert.match(usb.reasons.join(), /Q:\\secrets\\keys.txt: volume Q: is not present on this node/);
  assert.equal(statusOf(h, 'mixed').state, 'partial');
  assert.equal(await metric(h, 'kawin_rules_refused', '{check="volume"}'), 2);
  assert.ok(h.logger.records.some((r) => r.msg.startsWith('rule refused') && r['path'] === 'Q:\\secrets\\keys.txt' && r['check'] === 'volume'));

  h.emulator.machine.mountVolume('Q:', Q_VOLUME);
  h.runtime!.agent.resyncNow(); // what the periodic resync does
  await h.until((r) => r.length === 4, 'the Q: rules once Q: is mounted');
  await h.runtime!.agent.whenIdle();
  assert.ok(h.paths((await h.probe.listRules()).rules).includes(`${Q_VOLUME}\\secrets\\keys.txt`));
  assert.equal(statusOf(h, 'usb-secrets').state, 'applied');
  assert.equal(statusOf(h, 'mixed').state, 'applied');
  assert.equal(await metric(h, 'kawin_rules_refused', '{check="volume"}'), 0);
});

void test('rules the driver rejects are isolated by bisection: their policy is invalid with the reason, the rest enforced', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  h.writePolicy('hosts.yaml', hostPolicy('hosts', `  file:
    matchPaths:
      - path: C:\\Windows\\System32\\drivers\\etc\\hosts
  action: Block
`));
  h.writePolicy('mixed.yaml', MIXED.replace('Q:', 'C:').replace('C:\\data\\payroll', 'C:\\data\\salaries'));
  // The driver rejects the whole APPLY, then the first half, then the first rule of that half.
  h.emulator.machine.injectFault('APPLY', 3, 87);
  await h.start();
  await ready(h);
  assert.equal((await h.probe.listRules()).rules.length, 3, 'every rule but the rejected one is enforced');
  const statuses = policyStatuses(h.runtime!.view);
  const hit = statuses.filter((p) => p.state !== 'applied');
  assert.equal(hit.length, 1, JSON.stringify(statuses));
  assert.match(hit[0]!.reasons.join(), /the driver rejected the rule: .*Win32 error 87/);
  assert.ok(['invalid', 'partial'].includes(hit[0]!.state));
  assert.equal(await metric(h, 'kawin_rules_refused', '{check="driver"}'), 1);
  assert.equal(h.runtime!.view.reconcile.lastReconcile?.error, undefined, 'the node is not stuck retrying');
});
