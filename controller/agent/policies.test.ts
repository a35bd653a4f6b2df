import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flavor } from '../../driver/abi/types.js';
import { CompileCache, PolicyCompiler, PolicyPreparer } from '../policy/index.js';
import { MemoryLogger } from '../observability/index.js';
import { PreparerRunnable } from './policies.js';

const text = `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: p}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  file: {matchPaths: [{path: 'C:\\\\Apps\\\\a.exe'}]}
  action: Block
`;

/** A preparer runnable over the compile cache in `dir`, started (and one turn given to it). */
async function startIn(dir: string) {
  const cache = new CompileCache(CompileCache.fileIn(dir), '1.0.0');
  const compiler = new PolicyCompiler({ flavor: Flavor.Windows, nodeLabels: { 'kubernetes.io/os': 'windows' } });
  const preparer = new PolicyPreparer({ compiler: () => compiler, cache, workers: 2 });
  const runnable = new PreparerRunnable(preparer, cache, new MemoryLogger());
  await runnable.start();
  await new Promise((resolve) => setImmediate(resolve));
  return { preparer, runnable };
}

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-prep-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

void test('at start, the prepare workers start when the compile cache holds nothing (every policy will be parsed), not when it answers', async (t) => {
  const dir = tempDir(t);
  const first = await startIn(dir);
  assert.equal(first.preparer.running, 2, 'a first start: the workers start with the agent');
  first.preparer.parse(text, 'p.yaml');
  await first.runnable.initialSyncDone();
  assert.equal(first.preparer.running, 0, 'one policy, parsed inline: the initial sync stops the workers it did not need');
  await first.runnable.stop();

  const second = await startIn(dir);
  assert.equal(second.preparer.running, 0, 'the cache answers: no worker is started');
  assert.equal(second.preparer.parse(text, 'p.yaml').documents.length, 1);
  assert.equal(second.preparer.counts.cached, 1);
  // Nothing parsed inline: the initial sync warms the parser up, leaving the counts as they are.
  await second.runnable.initialSyncDone();
  assert.deepEqual(second.preparer.counts, { cached: 1, prepared: 0, inline: 0, workerFailures: 0 });
  await second.runnable.stop();
});

void test('an agent without policies starts no prepare worker once its compile cache is written (empty)', async (t) => {
  const dir = tempDir(t);
  const first = await startIn(dir);
  assert.equal(first.preparer.running, 2, 'no cache file: a first start');
  await first.runnable.initialSyncDone();
  await first.runnable.stop();
  assert.ok(existsSync(CompileCache.fileIn(dir)), 'the cache is written, with no entry');
  const again = await startIn(dir);
  assert.equal(again.preparer.running, 0, 'the empty cache says: no policy last time, no worker');
  await again.runnable.stop();
});
