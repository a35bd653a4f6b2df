/**
 * Issue 9, findings 5 and 7 for `kawin validate` and `kawin compile`: a FIFO (or device) where a policy file
 * should be is refused without being opened for a blocking read, as the agent's file
 * source refuses it; the other files are still checked.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command } from './validate.js';
import { command as compileCommand } from './compile.js';

const good = `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: ok
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/os: windows
  process:
    matchPaths:
      - path: C:\\Windows\\System32\\cmd.exe
  action: Block
`;

async function run(args: string[], cmd = command): Promise<{ code: number | 'hung'; out: string }> {
  let out = '';
  const io = { stdout: (s: string) => { out += `${s}\n`; }, stderr: (s: string) => { out += `${s}\n`; }, isTTY: false };
  const code = await Promise.race([cmd.run(args, io), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
  return { code, out };
}

void test('kawin validate refuses a FIFO or a device without blocking on it, and checks the other files', { skip: process.platform === 'win32' }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-validate-'));
  const fifo = join(dir, 'fifo.yaml');
  execFileSync('mkfifo', [fifo]);
  symlinkSync('/dev/zero', join(dir, 'zero.yaml'));
  writeFileSync(join(dir, 'ok.yaml'), good);
  t.after(() => {
    // Releases a reader blocked in open() (the bug), so the process can exit.
    try { closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK)); } catch { /* no reader waiting */ }
    rmSync(dir, { recursive: true, force: true });
  });
  const { code, out } = await run([dir]);
  assert.equal(code, 1, out);
  assert.match(out, /fifo\.yaml.*is a fifo, not a regular file/);
  assert.match(out, /zero\.yaml.*is a character device, not a regular file/);
  assert.match(out, /3 file\(s\), 1 document\(s\), 1 valid policies, 2 error\(s\)/);
  const named = await run([fifo]);
  assert.equal(named.code, 1, 'named on the command line: refused the same way');
  const compiled = await run([dir], compileCommand);
  assert.equal(compiled.code, 1, `kawin compile refuses them the same way:\n${compiled.out}`);
  assert.match(compiled.out, /fifo\.yaml.*is a fifo, not a regular file/);
});
