import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { machineGuidFromRegOutput, machineId, type MachineIdSources } from './index.js';

// reg.exe's output for the value, as Windows prints it (blank line, key, indented value).
const REG_OUTPUT = '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    9b1c4a2e-7f3d-4e6a-8c21-5d0f3b6a9e47\r\n\r\n';

const sources = (over: Partial<MachineIdSources>): MachineIdSources => ({
  platform: 'linux', queryRegistry: () => { throw new Error('no registry'); }, readFile: () => { throw new Error('ENOENT'); }, ...over,
});

void test('Windows: the MachineGuid from the registry, else the node name', () => {
  assert.equal(machineGuidFromRegOutput(REG_OUTPUT), '9b1c4a2e-7f3d-4e6a-8c21-5d0f3b6a9e47');
  const asked: string[] = [];
  const win = sources({ platform: 'win32', queryRegistry: (key, value) => { asked.push(`${key} ${value}`); return REG_OUTPUT; } });
  assert.equal(machineId('node-a', win), '9b1c4a2e-7f3d-4e6a-8c21-5d0f3b6a9e47');
  assert.deepEqual(asked, ['HKLM\\SOFTWARE\\Microsoft\\Cryptography MachineGuid']);
  assert.equal(machineId('node-a', sources({ platform: 'win32' })), 'node-a');
});

void test('Linux: /etc/machine-id, then /var/lib/dbus/machine-id, else the node name', () => {
  const files: Record<string, string> = { '/var/lib/dbus/machine-id': 'dbus-id\n' };
  const linux = sources({ readFile: (p) => { const f = files[p]; if (f === undefined) throw new Error('ENOENT'); return f; } });
  assert.equal(machineId('node-a', linux), 'dbus-id');
  files['/etc/machine-id'] = '  etc-id\n';
  assert.equal(machineId('node-a', linux), 'etc-id');
  assert.equal(machineId('node-a', sources({})), 'node-a');
});

void test('this machine: the real id', () => {
  let expected = 'node-a';
  try { expected = readFileSync('/etc/machine-id', 'utf8').trim() || expected; } catch { /* none here */ }
  assert.equal(machineId('node-a'), expected);
});
