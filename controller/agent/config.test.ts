import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Posture, REPORT } from '../../driver/abi/types.js';
import { startHarness, type AgentHarness } from '../../test/agent-harness.js';

async function driverConfigUntil(h: AgentHarness, check: (c: Awaited<ReturnType<AgentHarness['probe']['getState']>>['config']) => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (check((await h.probe.getState()).config)) return;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`driver config never matched: ${JSON.stringify((await h.probe.getState()).config)}`);
}

void test('a valid config change is applied live; an invalid one is reported and the running config stays', async (t) => {
  const h = await startHarness(t);
  await h.startWithConfigFile();
  await driverConfigUntil(h, (c) => c.filePosture === Posture.Audit && c.eventMask === 0);

  writeFileSync(h.configFile, JSON.stringify(h.rawConfig({
    postures: { file: 'block' }, hostTelemetry: { file: true }, logging: { format: 'json', level: 'debug' },
  })));
  await driverConfigUntil(h, (c) => c.filePosture === Posture.Block && (c.eventMask & REPORT.unmatchedFile) !== 0);
  assert.equal(h.runtime!.view.config().logging.level, 'debug');
  // Host telemetry now on: an unmatched file open becomes a HostLog in the pipeline.
  h.emulator.machine.simulateFileOpen('C:\\Users\\a\\notes.txt', { process: 'C:\\Windows\\notepad.exe' });
  const until = Date.now() + 10_000;
  while (h.runtime!.agent.eventPipeline.stats().logs < 1) {
    if (Date.now() > until) throw new Error(`no host log: ${JSON.stringify(h.runtime!.agent.eventPipeline.stats())}`);
    await new Promise((r) => setTimeout(r, 20));
  }

  writeFileSync(h.configFile, JSON.stringify(h.rawConfig({ postures: { file: 'sometimes' } })).replace('"hostName"', '\n"hostName"'));
  const deadline = Date.now() + 10_000;
  while (!h.logger.records.some((r) => r.msg.startsWith('config change rejected'))) {
    if (Date.now() > deadline) throw new Error('the invalid config was not reported');
    await new Promise((r) => setTimeout(r, 20));
  }
  const rejection = h.logger.records.find((r) => r.msg.startsWith('config change rejected'))!;
  assert.match(String(rejection.error), /postures\.file/);
  assert.equal(h.runtime!.view.config().postures.file, 'block', 'the running config stays');
  assert.equal((await h.probe.getState()).config.filePosture, Posture.Block);
});
