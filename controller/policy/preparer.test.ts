import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flavor } from '../../driver/abi/types.js';
import { FakeClock } from '../clock/index.js';
import { CompileCache, MIN_WORKER_BATCH, PolicyCompiler, PolicyPreparer } from './index.js';
import { WARM_LINGER_MS } from './preparer.js';

const policy = (i: number): string => `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: p${i}}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  file: {matchPaths: [{path: 'C:\\\\Apps\\\\a${i}.exe'}]}
  action: Block
`;
const texts = Array.from({ length: MIN_WORKER_BATCH }, (_, i) => ({ text: policy(i), location: `p${i}.yaml` }));

function setup(t: { after(fn: () => unknown): void }, workers = 2) {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-preparer-'));
  const clock = new FakeClock();
  const compiler = new PolicyCompiler({ flavor: Flavor.Windows });
  const preparer = new PolicyPreparer({ compiler: () => compiler, cache: new CompileCache(CompileCache.fileIn(dir), '1.0.0'), workers, clock });
  t.after(async () => {
    await preparer.close();
    rmSync(dir, { recursive: true, force: true });
  });
  return { clock, preparer };
}

void test('workers started ahead stop if no batch comes', (t) => {
  const { clock, preparer } = setup(t);
  assert.equal(preparer.workers, 0, 'no workers until asked');
  preparer.warm();
  assert.equal(preparer.workers, 2);
  clock.advance(WARM_LINGER_MS - 1);
  assert.equal(preparer.workers, 2);
  clock.advance(1);
  assert.equal(preparer.workers, 0);
});

void test('workers started ahead prepare the batch that comes, and stop after it', async (t) => {
  const { clock, preparer } = setup(t);
  preparer.warm();
  const progress = preparer.prepareAll(texts);
  clock.advance(WARM_LINGER_MS);
  assert.equal(preparer.workers, 2, 'a batch in flight keeps them');
  await progress.done;
  assert.equal(preparer.counts.prepared, texts.length);
  assert.equal(preparer.workers, 2, 'they wait a little for the next batch');
  clock.advance(WARM_LINGER_MS);
  assert.equal(preparer.workers, 0);
});

void test('an inline preparer starts no workers', (t) => {
  const { preparer } = setup(t, 0);
  preparer.warm();
  assert.equal(preparer.workers, 0);
});
