import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { PassThrough } from 'node:stream';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../observability/index.js';
import { RotatingFile } from './rotating-file.js';

const mode = (path: string): number => statSync(path).mode & 0o777;

/** Runs `work` under `umask` (the process's umask is restored after). */
async function underUmask<T>(umask: number, work: () => Promise<T>): Promise<T> {
  const previous = process.umask(umask);
  try {
    return await work();
  } finally {
    process.umask(previous);
  }
}

void test('alert files and their rotations are the owner\'s only, whatever the umask', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-mode-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'new', 'events.jsonl');
  const file = new RotatingFile({ path, maxBytes: 10, maxFiles: 2 });
  await underUmask(0, async () => {
    await file.write('0123456789\n');
    await file.write('second\n');
  });
  await file.close();
  assert.equal(mode(path), 0o600);
  assert.equal(mode(`${path}.1`), 0o600);
  assert.equal(mode(join(dir, 'new')), 0o700, 'a directory it creates is private too');
  // An existing file readable by others is tightened when opened.
  const old = join(dir, 'old.jsonl');
  writeFileSync(old, '', { mode: 0o644 });
  const reopened = new RotatingFile({ path: old, maxBytes: 100, maxFiles: 1 });
  await reopened.write('x\n');
  await reopened.close();
  assert.equal(mode(old), 0o600);
});

void test('the log file is the owner\'s only, whatever the umask', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-mode-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'agent.log');
  await underUmask(0, async () => {
    const log = createLogger({ file, stream: new PassThrough() as unknown as NodeJS.WriteStream });
    log.info('hello');
    await log.close();
  });
  assert.equal(mode(file), 0o600);
});
