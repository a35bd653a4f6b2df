import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decision } from '../../driver/abi/types.js';
import { hostPolicy, startHarness } from '../../test/agent-harness.js';

// Spellings of one file that Windows opens as that file (docs/driver.md, "Path normalization").
const BYPASSES = [
  'C:\\Windows\\System32\\certutil.exe',
  'C:\\Windows\\\\System32\\\\certutil.exe',
  'C:\\Windows\\.\\System32\\certutil.exe',
  'C:\\Windows\\Temp\\..\\System32\\certutil.exe',
  'C:\\Windows\\System32\\certutil.exe.',
  'C:\\Windows\\System32\\certutil.exe ',
  'C:\\Windows\\System32\\certutil.exe::$DATA',
  'c:/windows/system32/CERTUTIL.EXE',
];

void test('a Block on certutil.exe holds for every spelling of its path, however the policy wrote it', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('certutil.yaml', hostPolicy('block-certutil', `  process:
    matchPaths:
      - path: C:\\Windows\\System32\\certutil.exe.
  file:
    matchDirectories:
      - dir: C:\\Secrets. \\
        recursive: true
  action: Block
`));
  await h.start();
  await h.until((r) => r.length === 2, 'both rules');
  const machine = h.emulator.machine;
  for (const image of BYPASSES) {
    assert.equal(machine.simulateProcessCreate(image, { parent: 'C:\\Windows\\explorer.exe' }).decision, Decision.Block, image);
  }
  for (const file of ['C:\\Secrets\\a.txt', 'C:\\Secrets.\\x\\..\\a.txt', 'C:\\Secrets \\a.txt::$DATA']) {
    assert.equal(machine.simulateFileOpen(file, { process: 'C:\\Windows\\explorer.exe' }).decision, Decision.Block, file);
  }
  assert.equal(machine.simulateProcessCreate('C:\\Windows\\System32\\certutil.exe2', { parent: 'C:\\Windows\\explorer.exe' }).decision, Decision.Allow);
});
