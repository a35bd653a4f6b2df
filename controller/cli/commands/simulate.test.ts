import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Posture, REPORT } from '../../../driver/abi/types.js';
import type { HostEvent, HostEventBatch } from '../../../driver/client/index.js';
import { startEmulator } from '../../../test/emulator.js';
import { command as simulate } from './simulate.js';
import type { CliIO } from '../types.js';

async function run(argv: string[]) {
  const out: string[] = [];
  const io: CliIO = { stdout: (t) => out.push(t), stderr: (t) => out.push(t), isTTY: false };
  return { code: await simulate.run(argv, io), out: out.join('\n') };
}

async function next(it: AsyncIterator<HostEventBatch>): Promise<HostEvent> {
  for (;;) {
    const r = await it.next();
    assert.ok(!r.done);
    if (r.value.events[0]) return r.value.events[0];
  }
}

void test('simulate hands the driver what a minifilter knows of the acting process, and the event carries it', async (t) => {
  const emu = await startEmulator(t, { drives: { 'C:': '\\Device\\HarddiskVolume3' } });
  const config = join(emu.dir, 'config.json');
  writeFileSync(config, JSON.stringify({ driver: { kind: 'emulator', emulator: { dir: emu.dir, library: emu.library } } }));
  const client = await emu.client();
  await client.setConfig({
    caseFold: true, eventMask: REPORT.unmatchedFile | REPORT.unmatchedProcess, processPosture: Posture.Audit,
    filePosture: Posture.Audit, networkPosture: Posture.Audit, registryPosture: Posture.Audit,
  });
  const it = client.events()[Symbol.asyncIterator]();
  const open = await run(['file-open', 'C:\\data\\a.txt', '--config', config, '--process', 'C:\\Windows\\notepad.exe', '--pid', '3000',
    '--parent', 'C:\\Windows\\explorer.exe', '--ppid', '2000', '--session', '1', '--user', 'S-1-5-21-9-9-9-1001', '--cwd', 'C:\\Users\\bob\\']);
  assert.equal(open.code, 0, open.out);
  const e = await next(it);
  assert.deepEqual([e.processId, e.parentProcessId, e.parentImagePath, e.sessionId, e.userSid, e.currentDirectory],
    [3000, 2000, 'C:\\Windows\\explorer.exe', 1, 'S-1-5-21-9-9-9-1001', 'C:\\Users\\bob\\']);
  // The opener is tracked now: it starts a process, and the event names it and its parent.
  const start = await run(['process-create', 'C:\\Tools\\x.exe', '--config', config, '--parent', 'C:\\Windows\\notepad.exe',
    '--parent-pid', '3000', '--command-line', 'x.exe -v']);
  assert.equal(start.code, 0, start.out);
  const p = await next(it);
  assert.deepEqual([p.processId, p.parentProcessId, p.parentImagePath, p.commandLine, p.currentDirectory, p.newProcessId > 0],
    [3000, 2000, 'C:\\Windows\\explorer.exe', 'x.exe -v', 'C:\\Users\\bob\\', true]);
  await assert.rejects(run(['file-open', 'C:\\x', '--config', config, '--parent', 'C:\\p.exe']), /--parent of a file-open needs --ppid/);
  await it.return!();
});
