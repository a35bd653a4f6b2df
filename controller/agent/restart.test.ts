import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decision } from '../../driver/abi/types.js';
import { hostPolicy, startHarness } from '../../test/agent-harness.js';
import { spawnAgent } from '../../test/agent-process.js';

const CMD = hostPolicy('block-cmd', `  process:
    matchPaths:
      - path: C:\\Windows\\System32\\cmd.exe
  action: Block
`);

void test('kill -9 and restart of the agent: enforcement never stops and the new agent writes nothing', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', CMD);
  const first = await spawnAgent(h);
  const generation = (await h.probe.getState()).generation;
  assert.equal((await h.probe.listRules()).rules.length, 1);

  // Watch enforcement the whole time, as an application on the machine would meet it.
  let sampling = true;
  let samples = 0;
  const sampler = (async () => {
    while (sampling) {
      const d = h.emulator.machine.simulateProcessCreate('C:\\Windows\\System32\\cmd.exe', { parent: 'C:\\Windows\\explorer.exe' });
      assert.equal(d.decision, Decision.Block, 'cmd.exe was allowed while the agent restarted');
      samples++;
      await new Promise((r) => setImmediate(r));
    }
  })();

  first.child.kill('SIGKILL');
  await first.exited;
  assert.equal((await h.probe.listRules()).rules.length, 1, 'the driver outlived the agent');
  const second = await spawnAgent(h);
  sampling = false;
  await sampler;
  assert.ok(samples > 10);
  assert.equal((await h.probe.getState()).generation, generation, 'the restarted agent wrote nothing');

  second.child.kill('SIGTERM');
  assert.equal(await second.exited, 0, 'clean shutdown exits 0');
});

void test('a restart with nothing changed neither parses nor writes: the compile cache answers', async (t) => {
  const h = await startHarness(t);
  for (let i = 0; i < 20; i++) h.writePolicy(`p${i}.yaml`, hostPolicy(`p${i}`, `  file:\n    matchPaths:\n      - path: C:\\Apps\\a${i}\\tool.exe\n  action: Block\n`));
  const first = await h.start();
  await h.until((rules) => rules.length === 20, '20 rules');
  await first.agent.whenIdle();
  const generation = (await h.probe.getState()).generation;
  assert.deepEqual(first.agent.parseCounts, { cached: 0, prepared: 20, inline: 0, workerFailures: 0 }, 'a cold start prepares in worker threads');
  await h.stopAgent();

  const second = await h.start();
  await h.until(() => second.view.reconcile.firstApplyDone, 'first apply');
  await second.agent.whenIdle();
  assert.deepEqual(second.agent.parseCounts, { cached: 20, prepared: 0, inline: 0, workerFailures: 0 });
  assert.equal((await h.probe.getState()).generation, generation, 'nothing written to the driver');
  assert.equal((await h.probe.listRules()).rules.length, 20);
});
