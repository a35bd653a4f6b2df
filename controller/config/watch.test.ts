import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../clock/index.js';
import { ObservedCalls } from '../../test/observed.js';
import { ConfigWatcher, loadConfig, type AgentConfig } from './index.js';

/** Write like GitOps tools and editors that save atomically: temp file, then rename over. */
function writeAtomically(file: string, text: string): void {
  writeFileSync(`${file}.tmp`, text);
  renameSync(`${file}.tmp`, file);
}

interface Ctx {
  dir: string;
  file: string;
  clock: FakeClock;
  watcher: ConfigWatcher;
  changes: ObservedCalls<[AgentConfig, AgentConfig]>;
  invalid: ObservedCalls<[Error]>;
  settled: ObservedCalls<[]>;
}

async function withWatcher(fn: (ctx: Ctx) => Promise<void>, layout?: (dir: string) => string): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-cfgw-'));
  const file = layout ? layout(dir) : join(dir, 'config.json');
  if (!layout) writeFileSync(file, '{"logging": {"level": "info"}}');
  const clock = new FakeClock();
  const load = { platform: 'linux' as const, hostName: 'h' };
  const changes = new ObservedCalls<[AgentConfig, AgentConfig]>();
  const invalid = new ObservedCalls<[Error]>();
  const settled = new ObservedCalls<[]>();
  const observer = { changed: changes.record, invalid: invalid.record, settled: settled.record };
  const watcher = new ConfigWatcher(file, await loadConfig(file, {}, load), { clock, load, observer });
  await watcher.start();
  try {
    await fn({ dir, file, clock, watcher, changes, invalid, settled });
  } finally {
    await watcher.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

void test('a valid change is announced with the new and the old config', async () => {
  await withWatcher(async ({ file, clock, watcher, changes }) => {
    const change = changes.next();
    writeAtomically(file, '{"logging": {"level": "debug"}, "postures": {"file": "block"}}');
    const [next, previous] = await clock.runUntil(change);
    assert.equal(previous.logging.level, 'info');
    assert.equal(next.logging.level, 'debug');
    assert.equal(next.postures.file, 'block');
    assert.equal(watcher.current, next);
  });
});

void test('an invalid change is reported with its location and the running config stays', async () => {
  await withWatcher(async ({ file, clock, watcher, changes, invalid: rejected }) => {
    const before = watcher.current;
    const invalid = rejected.next();
    writeFileSync(file, '{\n  "logging": {"level": "loud"}\n}');
    const [error] = await clock.runUntil(invalid);
    assert.match(error.message, /config\.json:2:24: logging\.level: must be one of/);
    assert.equal(watcher.current, before);
    const change = changes.next();
    writeFileSync(file, '{"logging": {"level": "warn"}}');
    const [next, previous] = await clock.runUntil(change);
    assert.equal(previous, before, 'the invalid version never became current');
    assert.equal(next.logging.level, 'warn');
  });
});

void test('a change that resolves to the same config is not announced', async () => {
  await withWatcher(async ({ file, clock, changes, settled }) => {
    const done = settled.next();
    writeAtomically(file, '{ "logging": { "level": "info" }, "clusterName": "default" }\n');
    await clock.runUntil(done);
    assert.equal(changes.count, 0);
  });
});

void test('a symlink swap of the data directory (Kubernetes ConfigMap style) is seen', async () => {
  await withWatcher(
    async ({ dir, clock, changes }) => {
      mkdirSync(join(dir, 'rev2'));
      writeFileSync(join(dir, 'rev2', 'config.json'), '{"clusterName": "rev2"}');
      const change = changes.next();
      symlinkSync('rev2', join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      const [next] = await clock.runUntil(change);
      assert.equal(next.clusterName, 'rev2');
    },
    (dir) => {
      mkdirSync(join(dir, 'rev1'));
      writeFileSync(join(dir, 'rev1', 'config.json'), '{"clusterName": "rev1"}');
      symlinkSync('rev1', join(dir, '..data'));
      symlinkSync('..data/config.json', join(dir, 'config.json'));
      return join(dir, 'config.json');
    },
  );
});

void test('kubelet\'s exact ConfigMap update (..<timestamp> dir, ..data_tmp renamed over ..data, old dir removed) is seen', async () => {
  const v1 = '..2026_12_01_15_40_00.123456789';
  const v2 = '..2026_12_01_15_41_00.987654321';
  await withWatcher(
    async ({ dir, clock, changes }) => {
      mkdirSync(join(dir, v2));
      writeFileSync(join(dir, v2, 'config.json'), '{"clusterName": "second"}');
      const change = changes.next();
      symlinkSync(v2, join(dir, '..data_tmp'));
      renameSync(join(dir, '..data_tmp'), join(dir, '..data'));
      rmSync(join(dir, v1), { recursive: true });
      const [next] = await clock.runUntil(change);
      assert.equal(next.clusterName, 'second');
    },
    (dir) => {
      mkdirSync(join(dir, v1));
      writeFileSync(join(dir, v1, 'config.json'), '{"clusterName": "first"}');
      symlinkSync(v1, join(dir, '..data'));
      symlinkSync('..data/config.json', join(dir, 'config.json'));
      return join(dir, 'config.json');
    },
  );
});

void test('reload re-reads on demand (SIGHUP) without waiting for the debounce', async () => {
  await withWatcher(async ({ file, watcher }) => {
    writeFileSync(file, '{"clusterName": "now"}');
    await watcher.reload();
    assert.equal(watcher.current.clusterName, 'now');
  });
});
