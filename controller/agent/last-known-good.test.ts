import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hostPolicy, startHarness, type AgentHarness } from '../../test/agent-harness.js';
import { policyStatuses } from './status.js';

const CMD = hostPolicy('block-cmd', `  process:
    matchPaths:
      - path: C:\\Windows\\System32\\cmd.exe
  action: Block
`);

async function firstApply(h: AgentHarness): Promise<void> {
  await h.eventually(() => h.runtime!.view.reconcile.firstApplyDone, 'the first apply');
  await h.runtime!.agent.whenIdle();
}

void test('last-known-good survives a restart: a file broken while the agent was down keeps its last applied version', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  await h.start();
  await h.until((r) => r.length === 1, 'the cmd.exe rule');
  const file = join(h.config.stateDir, 'last-applied.json');
  const deadline = Date.now() + 5000;
  while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await h.stopAgent();
  assert.equal(statSync(file).mode & 0o777, 0o600);

  h.writePolicy('cmd.yaml', `${CMD}  oops: [\n`);
  await h.start();
  await firstApply(h);
  assert.equal((await h.probe.listRules()).rules.length, 1, 'the block rule is still in the driver');
  const cmd = policyStatuses(h.runtime!.view).find((p) => p.name === 'block-cmd');
  assert.equal(cmd?.state, 'last_known_good');
  assert.match(cmd!.problems[0]!.message, /YAML/);
  assert.ok(h.logger.records.some((r) => r.msg.startsWith('policy unit rejected') && String(r.origin).endsWith('cmd.yaml')));
  await h.stopAgent();

  // A state file that does not verify is ignored, with a log line, never half-used.
  writeFileSync(file, readFileSync(file, 'utf8').replace('cmd.exe', 'cmd.exf'));
  await h.start();
  await firstApply(h);
  assert.ok(h.logger.records.some((r) => r.msg.startsWith('last-applied policies ignored') && /checksum mismatch/.test(String(r.error))));
  await h.until((r) => r.length === 0, 'nothing restored from a corrupt file');
});
