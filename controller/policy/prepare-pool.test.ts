import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { constants, getPriority } from 'node:os';
import { Flavor } from '../../driver/abi/types.js';
import { PolicyCompiler } from './compiler.js';
import { PreparePool, PreparePoolError } from './prepare-pool.js';
import { prepareText, type PreparedText } from './prepared.js';
import { translateFor, type TranslationContext } from './compiler.js';
import { lowerThreadPriority } from './worker-priority.js';

const text = (i: number): string => `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: p${i}}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  process:
    matchPaths: [{path: 'C:\\\\Tools\\\\t${i}.exe', fromSource: [{path: 'C:\\\\x.exe'}]}]
  file:
    matchDirectories: [{dir: 'C:\\\\Data\\\\${i}\\\\', recursive: true}, {dir: 'relative\\\\${i}'}]
  action: Block
`;
// Long enough texts that a batch spans several chunks (and so several replies).
const texts = Array.from({ length: 60 }, (_, i) => ({ text: `${text(i)}${'#'.repeat(2000)}\n`, location: `p${i}.yaml` }));
const context = new PolicyCompiler({ flavor: Flavor.Windows }).translation;

void test('every text of a batch is handed over once, at its index, as the calling thread would prepare it', async (t) => {
  const pool = new PreparePool(2);
  t.after(() => pool.close());
  const got = new Map<number, PreparedText>();
  await pool.prepare(texts, context, (i, prepared) => {
    assert.equal(got.has(i), false, `text ${i} handed over twice`);
    got.set(i, prepared);
  });
  assert.equal(got.size, texts.length);
  const translate = translateFor(context);
  texts.forEach(({ text, location }, i) => assert.deepEqual(got.get(i), prepareText(text, location, translate)));
});

void test('a worker that fails rejects the batch with a PreparePoolError; the pool prepares the next batch', async (t) => {
  const pool = new PreparePool(1);
  t.after(() => pool.close());
  // An environment that is not a mapping: the worker's translation throws.
  const broken = { flavor: Flavor.Windows, environment: null } as unknown as TranslationContext;
  await assert.rejects(pool.prepare(texts, broken, () => undefined), (error: Error) => error instanceof PreparePoolError && /a prepare worker failed: TypeError/.test(error.message));
  let count = 0;
  await pool.prepare(texts.slice(0, 3), context, () => count++);
  assert.equal(count, 3);
});

void test('closing the pool rejects the batches in flight with a PreparePoolError', async () => {
  const pool = new PreparePool(1);
  const batch = pool.prepare(texts, context, () => undefined);
  await pool.close();
  await assert.rejects(batch, PreparePoolError);
  await assert.rejects(pool.prepare(texts, context, () => undefined), /closed/);
});

/** The nice value of each of this process's threads (Linux: field 19 of /proc/self/task/<tid>/stat). */
function threadNiceValues(): number[] {
  return readdirSync('/proc/self/task').flatMap((tid) => {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return [Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])];
    } catch {
      return []; // the thread ended meanwhile
    }
  });
}

void test('the workers run below normal priority and the main thread keeps its own', { skip: process.platform !== 'linux' && 'per-thread nice values are read from Linux /proc' }, async (t) => {
  const main = getPriority(0);
  const errors: string[] = [];
  const pool = new PreparePool(2, (error) => errors.push(error));
  t.after(() => pool.close());
  await pool.prepare(texts, context, () => undefined);
  assert.deepEqual(errors, []);
  assert.equal(getPriority(0), main, 'the main thread\'s priority is unchanged');
  const lowered = threadNiceValues().filter((nice) => nice === Math.min(constants.priority.PRIORITY_LOW, main + constants.priority.PRIORITY_BELOW_NORMAL));
  assert.ok(lowered.length >= 2, `two worker threads at nice ${main} + 10: ${threadNiceValues().join(' ')}`);
});

void test('a platform where the priority cannot be lowered is told, not hidden', async () => {
  assert.deepEqual(await lowerThreadPriority('aix'), { error: 'not supported on aix' });
});
