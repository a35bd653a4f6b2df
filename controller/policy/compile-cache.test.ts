import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flavor } from '../../driver/abi/types.js';
import { CompileCache, MIN_WORKER_BATCH, POOL_WARM_WAIT_MS, PolicyCompiler, PolicyPreparer, parsePolicies } from './index.js';
import { preparedKey, type PreparedText } from './prepared.js';
import { warmUpText } from './preparer.js';
import { POLICY_KINDS } from './types.js';

const policy = (i: number, rules = 3): string => `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: p${i}}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  severity: ${1 + (i % 9)}
  file:
    matchPaths:
${Array.from({ length: rules }, (_, r) => `      - path: C:\\Apps\\a${i}\\f${r}.exe`).join('\n')}
      - path: C:\\Apps\\a${i}\\f0.exe
  action: Block
`;

function setup(t: { after(fn: () => void): void }, workers = 0) {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-cc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = CompileCache.fileIn(dir);
  const make = async (version = '1.0.0') => {
    const cache = new CompileCache(file, version);
    const outcome = await cache.load();
    const compiler = new PolicyCompiler({ flavor: Flavor.Windows, nodeLabels: { 'kubernetes.io/os': 'windows' } });
    return { cache, outcome, compiler, preparer: new PolicyPreparer({ compiler: () => compiler, cache, workers }) };
  };
  return { file, make };
}

/** What a policy compiles to, as plain data (functions dropped). */
function compiled(compiler: PolicyCompiler, text: string, location: string, parse: (t: string, l: string) => ReturnType<typeof parsePolicies>) {
  const result = parse(text, location);
  return result.documents.map((d) => ({
    key: d.key, line: d.line, problems: d.problems,
    rules: d.policy ? compiler.compile(d.policy).rules.map((r) => ({ ...r, id: String(r.id) })) : [],
    compileProblems: d.policy ? compiler.compile(d.policy).problems : [],
    located: d.policy?.locate('spec.file.matchPaths[1].path'),
  }));
}

void test('a restart with nothing changed parses nothing, and gives what parsing gives', async (t) => {
  const { make } = setup(t);
  const first = await make();
  assert.deepEqual(first.outcome, { loaded: 0, absent: true });
  const texts = [policy(1), policy(2)];
  const fresh = texts.map((text, i) => compiled(first.compiler, text, `p${i}.yaml`, (x, l) => first.preparer.parse(x, l)));
  assert.deepEqual(first.preparer.counts, { cached: 0, prepared: 0, inline: 2, workerFailures: 0 });
  await first.preparer.close();

  const second = await make();
  assert.deepEqual(second.outcome, { loaded: 2 });
  const again = texts.map((text, i) => compiled(second.compiler, text, `p${i}.yaml`, (x, l) => second.preparer.parse(x, l)));
  assert.deepEqual(second.preparer.counts, { cached: 2, prepared: 0, inline: 0, workerFailures: 0 });
  // The same documents, rules (ids included), duplicate warnings with their positions, and locate().
  assert.deepEqual(again, fresh);
  const reference = new PolicyCompiler({ flavor: Flavor.Windows, nodeLabels: { 'kubernetes.io/os': 'windows' } });
  assert.deepEqual(again, texts.map((text, i) => compiled(reference, text, `p${i}.yaml`, parsePolicies)));
  assert.equal(again[0]![0]!.compileProblems[0]!.code, 'duplicate');
  assert.deepEqual(again[0]![0]!.located, { line: 10, column: 15 });
});

void test('a changed text, location or kawin version is parsed again', async (t) => {
  const { make } = setup(t);
  const first = await make();
  first.preparer.parse(policy(1), 'a.yaml');
  await first.preparer.close();
  const second = await make();
  second.preparer.parse(policy(1, 4), 'a.yaml');
  second.preparer.parse(policy(1), 'b.yaml');
  assert.deepEqual([second.preparer.counts.cached, second.preparer.counts.inline], [0, 2]);
  await second.preparer.close();
  const other = await make('2.0.0');
  assert.match((other.outcome as { rejected: string }).rejected, /written by kawin 1\.0\.0, this is 2\.0\.0/);
});

void test('a corrupt or truncated cache file is not used and is rebuilt', async (t) => {
  const { file, make } = setup(t);
  const first = await make();
  first.preparer.parse(policy(1), 'a.yaml');
  await first.preparer.close();
  const good = readFileSync(file);
  const flipped = Buffer.from(good);
  flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
  for (const [bytes, reason] of [[flipped, /checksum mismatch/], [good.subarray(0, good.length - 7), /checksum mismatch/], [Buffer.from('hello'), /not a kawin compile cache/]] as const) {
    writeFileSync(file, bytes);
    const next = await make();
    assert.match((next.outcome as { rejected: string }).rejected, reason);
    assert.equal(next.preparer.parse(policy(1), 'a.yaml').documents[0]!.policy!.rules.length, 4);
    assert.equal(next.preparer.counts.inline, 1, 'parsed, not taken from the bad file');
    await next.preparer.close();
    assert.deepEqual((await make()).outcome, { loaded: 1 }, 'rebuilt on the next save');
  }
});

void test('a batch is prepared by worker threads, with the same result as inline parsing', async (t) => {
  const { make } = setup(t, 2);
  const { preparer, compiler } = await make();
  t.after(() => preparer.close());
  const texts = Array.from({ length: MIN_WORKER_BATCH + 4 }, (_, i) => ({ text: policy(i), location: `p${i}.yaml` }));
  await preparer.prepareAll(texts).done;
  assert.deepEqual(preparer.counts, { cached: 0, prepared: texts.length, inline: 0, workerFailures: 0 });
  const reference = new PolicyCompiler({ flavor: Flavor.Windows, nodeLabels: { 'kubernetes.io/os': 'windows' } });
  for (const { text, location } of texts) {
    assert.deepEqual(compiled(compiler, text, location, (x, l) => preparer.parse(x, l)), compiled(reference, text, location, parsePolicies));
  }
  assert.equal(preparer.counts.inline, 0, 'the upserts after the batch parsed nothing');
});

void test('workers started ahead of a batch (warm) prepare it, and stop once it is done; unused, they stop after POOL_WARM_WAIT_MS', async (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { make } = setup(t, 2);
  const { preparer } = await make();
  t.after(() => preparer.close());
  assert.equal(preparer.running, 0, 'no worker before a batch or warm()');
  preparer.warm();
  assert.equal(preparer.running, 2, 'started before any batch');
  t.mock.timers.tick(POOL_WARM_WAIT_MS - 1);
  const texts = Array.from({ length: MIN_WORKER_BATCH + 4 }, (_, i) => ({ text: policy(i), location: `p${i}.yaml` }));
  const progress = preparer.prepareAll(texts);
  t.mock.timers.tick(1);
  assert.equal(preparer.running, 2, 'the wait ends with a batch in flight: the workers stay');
  await progress.done;
  assert.deepEqual(preparer.counts, { cached: 0, prepared: texts.length, inline: 0, workerFailures: 0 });
  assert.equal(preparer.running, 2, 'they linger a moment for the next batch');
  t.mock.timers.tick(POOL_WARM_WAIT_MS);
  assert.equal(preparer.running, 0, 'and stop after it');

  preparer.warm();
  t.mock.timers.tick(POOL_WARM_WAIT_MS - 1);
  assert.equal(preparer.running, 2);
  t.mock.timers.tick(1);
  assert.equal(preparer.running, 0, 'unused, they stop');
});

void test('stopIdleWorkers stops workers waiting for a batch, not workers preparing one', async (t) => {
  const { make } = setup(t, 2);
  const { preparer } = await make();
  t.after(() => preparer.close());
  preparer.warm();
  preparer.stopIdleWorkers();
  assert.equal(preparer.running, 0, 'warm, no batch: stopped at once');
  const texts = Array.from({ length: MIN_WORKER_BATCH + 4 }, (_, i) => ({ text: policy(i), location: `p${i}.yaml` }));
  const progress = preparer.prepareAll(texts);
  preparer.stopIdleWorkers();
  assert.equal(preparer.running, 2, 'a batch in flight keeps them');
  await progress.done;
  assert.deepEqual(preparer.counts, { cached: 0, prepared: texts.length, inline: 0, workerFailures: 0 });
  preparer.stopIdleWorkers();
  assert.equal(preparer.running, 0, 'lingering after it: stopped at once');
});

void test('warmInline parses a valid sample of each kind on the calling thread, and leaves no trace: nothing cached or counted, no worker started', async (t) => {
  for (const kind of POLICY_KINDS) {
    const [doc] = parsePolicies(warmUpText(kind), 'warm.yaml').documents;
    assert.ok(doc?.policy, `${kind}: ${JSON.stringify(doc?.problems)}`);
    assert.deepEqual(doc.problems.filter((p) => p.severity === 'error'), []);
    assert.ok(doc.policy.rules.length >= 2, `${kind}: rules of both sections`);
  }
  const { make } = setup(t, 2);
  const { preparer, cache } = await make();
  t.after(() => preparer.close());
  const before = { counts: { ...preparer.counts }, cached: cache.size };
  await preparer.warmInline();
  assert.deepEqual(preparer.counts, before.counts);
  assert.equal(cache.size, before.cached);
  assert.equal(preparer.running, 0, 'no worker started');
  let steps = 0;
  await preparer.warmInline(() => ++steps > 2);
  assert.equal(steps, 3, 'stopped() is asked between steps, and ends the warm-up');
});

/** Texts of every shape a chunk carries: several documents, sources, problems, a bad document, no policy at all. */
const varied = (i: number): string => `${policy(i)}---
apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: q${i}}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  process:
    matchPaths: [{path: 'C:\\\\Tools\\\\t${i}.exe', fromSource: [{path: 'C:\\\\x.exe'}, {dir: 'D:\\\\Bin\\\\'}]}]
    matchDirectories: [{dir: 'C:\\\\Données\\\\${i}\\\\', recursive: true, tags: [é, 中文]}]
  file:
    matchPatterns: [{pattern: 'C:\\\\Users\\\\*\\\\${i}\\\\*.txt', readOnly: true, action: Audit, message: 'read ${i}'}]
  action: Block
---
kind: ConfigMap
apiVersion: v1
---
apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: bad${i}}
spec: {file: {matchPaths: [{path: relative\\\\${i}.exe}]}}
`;

void test('texts prepared by worker threads are cached as texts parsed inline', async (t) => {
  const texts = Array.from({ length: MIN_WORKER_BATCH + 3 }, (_, i) => ({ text: i % 3 === 0 ? varied(i) : policy(i, 1 + (i % 5)), location: `p${i}.yaml` }));
  const caches: Map<string, PreparedText | undefined>[] = [];
  for (const workers of [2, 0]) {
    const { file, make } = setup(t, workers);
    const { preparer, compiler } = await make();
    await preparer.prepareAll(texts).done;
    for (const { text, location } of texts) preparer.parse(text, location);
    assert.equal(workers ? preparer.counts.prepared : preparer.counts.inline, texts.length);
    await preparer.close();
    // What the file holds, read back.
    const saved = new CompileCache(file, '1.0.0');
    assert.deepEqual(await saved.load(), { loaded: texts.length });
    caches.push(new Map(texts.map(({ text, location }) => [location, saved.get(location, preparedKey(text, location, compiler.contextKey))])));
  }
  for (const { location } of texts) assert.ok(caches[0]!.get(location), location);
  assert.deepEqual(caches[0], caches[1]);
});

void test('a text that changed between its batch and its parse is parsed as it is now', async (t) => {
  const { make } = setup(t, 2);
  const { preparer } = await make();
  t.after(() => preparer.close());
  const texts = Array.from({ length: MIN_WORKER_BATCH }, (_, i) => ({ text: policy(i), location: `p${i}.yaml` }));
  await preparer.prepareAll(texts).done;
  const result = preparer.parse(policy(0, 7), 'p0.yaml');
  assert.equal(result.documents[0]!.policy!.rules.length, 8, 'the new text, not the prepared one');
  assert.equal(preparer.counts.inline, 1);
  assert.equal(preparer.parse(policy(1), 'p1.yaml').documents[0]!.policy!.rules.length, 4);
  assert.equal(preparer.counts.prepared, texts.length);
});
