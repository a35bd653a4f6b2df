import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flavor } from '../../driver/abi/types.js';
import { parseConfig } from '../config/index.js';
import { MemoryLogger } from '../observability/index.js';
import { CompileCache, MIN_WORKER_BATCH, PolicyCompiler, PolicyPreparer } from '../policy/index.js';
import { PreparerRunnable, policyFilesAhead } from './policies.js';

const policy = (i: number): string => `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: p${i}}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  file: {matchPaths: [{path: 'C:\\\\Apps\\\\a${i}.exe'}]}
  action: Block
`;

/** A policy directory with `files` policies (and files that are not policies), an agent config reading it, a state directory. */
function setup(t: { after(fn: () => unknown): void }, files: number) {
  const root = mkdtempSync(join(tmpdir(), 'kawin-warm-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'policies');
  mkdirSync(dir);
  for (let i = 0; i < files; i++) writeFileSync(join(dir, `p${i}.yaml`), policy(i));
  for (const name of ['notes.txt', '.hidden.yaml', 'p0.yaml~']) writeFileSync(join(dir, name), 'x');
  const config = parseConfig(JSON.stringify({ stateDir: join(root, 'state'), driver: { kind: 'emulator' }, sources: { files: { enabled: true, paths: [dir, join(root, 'missing')] }, grpc: { enabled: false } } }));
  const start = async () => {
    const cache = new CompileCache(CompileCache.fileIn(config.stateDir), '1.0.0');
    const compiler = new PolicyCompiler({ flavor: Flavor.Windows });
    const preparer = new PolicyPreparer({ compiler: () => compiler, cache, workers: 1 });
    const runnable = new PreparerRunnable(preparer, cache, new MemoryLogger(), (enough) => policyFilesAhead(config, enough));
    t.after(() => preparer.close());
    await runnable.start();
    return { preparer, runnable, dir };
  };
  return { config, start, dir };
}

void test('policy files ahead: the policies at the top of the file source\'s directories, up to the number asked', async (t) => {
  const { config } = setup(t, 5);
  assert.equal(await policyFilesAhead(config, 100), 5, 'not notes.txt, hidden files or backups; a missing directory counts none');
  assert.equal(await policyFilesAhead(config, 3), 5);
  assert.equal(await policyFilesAhead({ ...config, sources: { ...config.sources, files: { ...config.sources.files, enabled: false } } }, 100), 0);
});

void test('a first start with a batch for the workers starts them at once; fewer files do not', async (t) => {
  assert.equal((await setup(t, MIN_WORKER_BATCH).start()).preparer.workers, 1);
  assert.equal((await setup(t, MIN_WORKER_BATCH - 1).start()).preparer.workers, 0);
});

void test('a restart whose files the compile cache holds starts no workers', async (t) => {
  const { start, dir } = setup(t, MIN_WORKER_BATCH + 2);
  const first = await start();
  for (let i = 0; i < MIN_WORKER_BATCH + 2; i++) first.preparer.parse(policy(i), join(dir, `p${i}.yaml`));
  await first.runnable.stop();
  assert.equal((await start()).preparer.workers, 0);
});
