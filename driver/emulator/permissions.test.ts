import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmulatedKernel, stopEmulatedKernel } from './index.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

void test('under umask 000 the device and port sockets are the owner\'s only (0600)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-emu-perm-'));
  // One hook, stop then remove: the pid file must still be there for the stop to find the daemon.
  t.after(async () => {
    await stopEmulatedKernel(dir).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  });
  const previous = process.umask(0);
  try {
    await startEmulatedKernel({ dir, log: join(dir, 'driverd.log') });
  } finally {
    process.umask(previous);
  }
  assert.equal(mode(join(dir, 'Karmor')), 0o600, 'device socket');
  assert.equal(mode(join(dir, 'KarmorPort')), 0o600, 'port socket');
  assert.equal(mode(join(dir, 'driverd.log')), 0o600, 'log');
});

void test('a directory others can write is refused with a clear error', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-emu-perm-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o777);
  await assert.rejects(startEmulatedKernel({ dir, daemonize: true }), /writable by group or others \(mode 777\): refusing to use it/);
});
