import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from './index.js';

void test('an atomic write lands whole with explicit modes, whatever the umask', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-durable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const old = process.umask(0);
  try {
    await writeFileAtomic(join(dir, 'state'), 'a.json', '{"a":1}\n');
  } finally {
    process.umask(old);
  }
  assert.equal(readFileSync(join(dir, 'state', 'a.json'), 'utf8'), '{"a":1}\n');
  assert.equal(statSync(join(dir, 'state', 'a.json')).mode & 0o777, 0o600);
  assert.equal(statSync(join(dir, 'state')).mode & 0o777, 0o700);
});

void test('a write that fails for lack of space leaves no temp file behind', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-durable-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  // A file-size limit of 1 KiB makes the write fail as a full disk does (EFBIG instead of ENOSPC).
  const module = fileURLToPath(new URL('./write.ts', import.meta.url));
  const script = `import { writeFileAtomic } from ${JSON.stringify(module)};
    await writeFileAtomic(${JSON.stringify(dir)}, 'big.json', 'x'.repeat(64 * 1024)).then(() => console.log('written'), (e) => console.log(e.code));`;
  const run = spawnSync('bash', ['-c', 'ulimit -f 1; exec "$0" --import tsx --input-type=module -e "$1"', process.execPath, script], { encoding: 'utf8', cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  assert.equal(run.stdout.trim(), 'EFBIG', run.stderr);
  assert.deepEqual(readdirSync(dir), [], 'the temp file was removed at once');
});
