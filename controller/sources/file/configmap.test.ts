// Policies from a ConfigMap volume, in the exact layout kubelet's atomic writer makes:
//   ..2026_12_01_15_40_00.123456789/<files>   the payload of one version
//   ..data -> ..2026_12_01_15_40_00.123456789
//   <file> -> ..data/<file>                     the names the user sees
// An update writes a new timestamped directory, points `..data_tmp` at it, renames
// `..data_tmp` over `..data` (the one atomic step) and removes the old directory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readlinkSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../../clock/index.js';
import { ObservedCalls } from '../../../test/observed.js';
import type { SourceDocument, SourceSink } from '../types.js';
import { FileSource, type FileSourceSettled } from './index.js';

const policy = (name: string, path: string): string => `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: ${name}
spec:
  process:
    matchPaths:
      - path: ${path}
  action: Block
`;

let stamp = 0;
/** One kubelet update: payload → new `..<timestamp>` dir → `..data` swapped → old dir removed. */
function kubeletWrite(dir: string, files: Record<string, string>): void {
  const version = `..2026_12_01_15_40_0${stamp}.12345678${stamp++}`;
  mkdirSync(join(dir, version));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, version, name), text);
  let old: string | undefined;
  try { old = join(dir, readLink(join(dir, '..data'))); } catch { old = undefined; }
  symlinkSync(version, join(dir, '..data_tmp'));
  renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
  for (const name of Object.keys(files)) {
    try { symlinkSync(join('..data', name), join(dir, name)); } catch { /* exists: it already points through ..data */ }
  }
  if (old) rmSync(old, { recursive: true, force: true });
}

function readLink(p: string): string {
  return readlinkSync(p);
}

class Sink implements SourceSink {
  docs = new Map<string, SourceDocument>();
  upsert(_s: string, doc: SourceDocument): void { this.docs.set(doc.origin, doc); }
  remove(_s: string, origin: string): void { this.docs.delete(origin); }
  synced(): void {}
  failed(): void {}
  rejected(): void {}
}

async function withConfigMapDir(rescanIntervalMs: number, fn: (ctx: { dir: string; sink: Sink; clock: FakeClock; rescans: ObservedCalls<[FileSourceSettled]>; settled: () => Promise<FileSourceSettled> }) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-configmap-'));
  kubeletWrite(dir, { 'block.yaml': policy('block', 'C:\\Windows\\System32\\cmd.exe') });
  const clock = new FakeClock();
  const sink = new Sink();
  const rescans = new ObservedCalls<[FileSourceSettled]>();
  const source = new FileSource({ paths: [dir], debounceMs: 50, rescanIntervalMs, clock, observer: { settled: rescans.record } });
  const settled = async (): Promise<FileSourceSettled> => (await clock.runUntil(rescans.next()))[0];
  try {
    await source.start(sink);
    assert.deepEqual([...sink.docs.keys()], [join(dir, 'block.yaml')], 'the user-visible name is the origin; ..data and ..<timestamp> are not');
    await fn({ dir, sink, clock, rescans, settled });
  } finally {
    await source.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('a kubelet ..data swap that changes a policy is picked up from the directory events', async () => {
  await withConfigMapDir(0, async ({ dir, sink, settled }) => {
    const next = settled();
    kubeletWrite(dir, { 'block.yaml': policy('block', 'C:\\Windows\\System32\\certutil.exe') });
    const result = await next;
    assert.deepEqual(result.upserted, [join(dir, 'block.yaml')]);
    assert.match(sink.docs.get(join(dir, 'block.yaml'))!.text, /certutil\.exe/);
  });
});

void test('a swap that adds and drops files: the new names appear, the dropped ones are removed', async () => {
  await withConfigMapDir(0, async ({ dir, sink, settled }) => {
    const until = async (done: () => boolean): Promise<void> => { while (!done()) await settled(); };
    kubeletWrite(dir, { 'block.yaml': policy('block', 'C:\\Windows\\System32\\cmd.exe'), 'more.yaml': policy('more', 'C:\\x.exe') });
    await until(() => sink.docs.size === 2);
    // Kubelet drops the visible link of a key that left the ConfigMap, then swaps.
    rmSync(join(dir, 'block.yaml'));
    kubeletWrite(dir, { 'more.yaml': policy('more', 'C:\\y.exe') });
    await until(() => !sink.docs.has(join(dir, 'block.yaml')) && /y\.exe/.test(sink.docs.get(join(dir, 'more.yaml'))!.text));
    assert.deepEqual([...sink.docs.keys()], [join(dir, 'more.yaml')]);
  });
});

void test('the periodic rescan finds a change no event announced', async () => {
  await withConfigMapDir(30_000, async ({ dir, sink, clock, rescans }) => {
    // Written inside the hidden version directory, which no watcher covers: only the rescan can notice.
    const target = join(dir, readLink(join(dir, '..data')), 'block.yaml');
    const fresh = `${target}.new`;
    writeFileSync(fresh, policy('block', 'C:\\Windows\\System32\\wscript.exe'));
    renameSync(fresh, target);
    const seen = rescans.next((s) => s.upserted.length > 0);
    await clock.runUntil(seen);
    assert.match(sink.docs.get(join(dir, 'block.yaml'))!.text, /wscript\.exe/);
  });
});
