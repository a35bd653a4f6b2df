import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bootTime, parseMachineGuid, readMachineIdFile } from './index.js';

void test('MachineGuid is read from `reg query` output as Windows prints it', () => {
  const out = '\r\nHKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Cryptography\r\n    MachineGuid    REG_SZ    4c4c4544-0044-3910-8052-b4c04f4e4d32\r\n\r\n';
  assert.equal(parseMachineGuid(out), '4c4c4544-0044-3910-8052-b4c04f4e4d32');
  assert.equal(parseMachineGuid('ERROR: The system was unable to find the specified registry key or value.'), undefined);
});

void test('machine-id files: the first non-empty one, trimmed; none → undefined', () => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-mid-'));
  try {
    writeFileSync(join(dir, 'empty'), '\n');
    writeFileSync(join(dir, 'id'), 'abc123\n');
    assert.equal(readMachineIdFile([join(dir, 'missing'), join(dir, 'empty'), join(dir, 'id')]), 'abc123');
    assert.equal(readMachineIdFile([join(dir, 'missing')]), undefined);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('boot time in Go\'s time.String() form, truncated to the second, as upstream', () => {
  assert.equal(bootTime(Date.UTC(2026, 11, 1, 15, 0, 0, 900), 3600.95), '2026-12-01 13:59:59 +0000 UTC');
});
