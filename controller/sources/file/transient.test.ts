/**
 * Issue 9, finding 8: a policy file read that fails for a passing reason (EMFILE at the
 * descriptor limit, EAGAIN, EBUSY) is retried with backoff on the clock until it
 * succeeds; meanwhile the file shows as rejected (its previous version in force), once,
 * not once per attempt.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../clock/index.js';
import type { SourceDocument, SourceSink } from '../types.js';
import { ObservedCalls } from '../../../test/observed.js';
import { FileSource, type FileSourceSettled } from './index.js';

const policy = (name: string) => `apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata:\n  name: ${name}\n`;

/** Opens of `target` fail with `code` while `failing()` says so; every attempt is counted. */
function failOpens(target: string, code: string, failing: () => boolean): { attempts: () => number; restore: () => void } {
  const real = fs.open;
  let attempts = 0;
  type Callback = (error: NodeJS.ErrnoException | null, fd?: number) => void;
  const fake = mock.method(fs, 'open', (path: Parameters<typeof fs.open>[0], ...rest: unknown[]) => {
    if (path !== target) return (real as (...a: unknown[]) => unknown)(path, ...rest);
    attempts++;
    if (!failing()) return (real as (...a: unknown[]) => unknown)(path, ...rest);
    const callback = rest[rest.length - 1] as Callback;
    process.nextTick(() => callback(Object.assign(new Error(`${code}: simulated, open '${target}'`), { code })));
  });
  syncBuiltinESMExports();
  return { attempts: () => attempts, restore: () => { fake.mock.restore(); syncBuiltinESMExports(); } };
}

function recordingSink(): SourceSink & { docs: Map<string, string>; rejections: Error[] } {
  const docs = new Map<string, string>();
  const rejections: Error[] = [];
  return {
    docs, rejections,
    upsert: (_s: string, d: SourceDocument) => { docs.set(d.origin, d.text); },
    remove: (_s: string, origin: string) => { docs.delete(origin); },
    synced: () => {},
    failed: () => {},
    rejected: (_s: string, _o: string, e: Error) => { rejections.push(e); },
  };
}

for (const code of ['EMFILE', 'ENFILE', 'EAGAIN', 'EBUSY']) {
  void test(`a policy read failing with ${code} is retried with backoff until it succeeds, shown rejected meanwhile (once)`, async (t) => {
    const base = mkdtempSync(join(tmpdir(), 'kawin-transient-'));
    const root = join(base, 'p');
    mkdirSync(root);
    const file = join(root, 'a.yaml');
    writeFileSync(file, policy('a'));
    let failing = true;
    const opens = failOpens(file, code, () => failing);
    const clock = new FakeClock();
    const sink = recordingSink();
    const reasons: string[] = [];
    const settled = new ObservedCalls<[FileSourceSettled]>();
    const source = new FileSource({ paths: [root], clock, debounceMs: 50, failureRetryMs: 5000, observer: { rejected: (r) => reasons.push(r), settled: settled.record } });
    t.after(async () => {
      opens.restore();
      await source.stop();
      rmSync(base, { recursive: true, force: true });
    });
    await source.start(sink);
    assert.equal(sink.docs.size, 0);
    assert.equal(sink.rejections.length, 1);
    assert.match(sink.rejections[0]!.message, new RegExp(`${code}.*retried`));
    // Ten seconds of failures: a handful of attempts (backoff), one rejection shown.
    const start = clock.now();
    while (clock.now() - start < 10_000) await clock.runUntil(settled.next());
    const attempts = opens.attempts();
    assert.ok(attempts >= 4 && attempts <= 12, `${attempts} attempts in 10 s`);
    assert.equal(sink.rejections.length, 1, 'shown once, not once per attempt');
    assert.ok(reasons.every((r) => r === 'transient') && reasons.length === attempts, 'each failed attempt counted as transient');
    failing = false;
    await clock.runUntil(settled.next());
    assert.equal(sink.docs.get(file), policy('a'), 'read and reported once the failure passed');
  });
}

void test('a permanent read failure (EACCES) is not retried until the file changes', async (t) => {
  const base = mkdtempSync(join(tmpdir(), 'kawin-transient-'));
  const root = join(base, 'p');
  mkdirSync(root);
  const file = join(root, 'a.yaml');
  writeFileSync(file, policy('a'));
  const opens = failOpens(file, 'EACCES', () => true);
  const clock = new FakeClock();
  const source = new FileSource({ paths: [root], clock, debounceMs: 50, failureRetryMs: 5000 });
  t.after(async () => {
    opens.restore();
    await source.stop();
    rmSync(base, { recursive: true, force: true });
  });
  await source.start(recordingSink());
  clock.advance(60_000);
  await new Promise((r) => setTimeout(r, 200)); // whatever the clock started has run
  assert.equal(opens.attempts(), 1);
});
