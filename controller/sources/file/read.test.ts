import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readPolicyFile } from './read.js';

void test('a file that grew past the limit after its scan is read only to the limit + 1 byte', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-read-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const origin = join(dir, 'grown.yaml');
  writeFileSync(origin, Buffer.alloc(8 * 1024 * 1024, 0x61));
  // The scan saw it small (it grew since, or it is a pseudo-file whose stat size is 0).
  const outcome = await readPolicyFile({ origin, size: 0, signature: 's', type: 'file' }, 1024);
  assert.equal(outcome.kind, 'rejected');
  assert.match((outcome as { error: Error }).error.message, /grown\.yaml is more than 1024 bytes, over the limit of 1024 bytes/);
});
