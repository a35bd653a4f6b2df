// The compiled agent (bin/kawin.js on dist/) with a table large enough that its APPLY and
// read-back go through the IOCTL thread: the thread's entry must exist in the build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
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
