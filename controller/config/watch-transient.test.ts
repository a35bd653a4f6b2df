/**
 * Issue 9, finding 8: at the descriptor limit the config watcher logged EMFILE every
 * 200 ms and an edit made meanwhile was lost. A read failing for a passing reason is now
 * reported once per episode and retried with backoff until the edit is applied.
 */
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import fsp from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeClock } from '../clock/index.js';
import { ObservedCalls } from '../../test/observed.js';
import { ConfigWatcher, loadConfig, type AgentConfig } from './index.js';

/**
 * Moves the fake clock from timer to timer until `done`; while no timer is pending (a
 * re-read in flight arms the next retry when it fails), waits a little real time. Gives
 * up after 10 s of real time.
 */
async function passTime(clock: FakeClock, done: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!done() && Date.now() < deadline) {
    if (clock.pending > 0) await clock.advanceAsync(clock.nextTimerIn() ?? 0);
    else await new Promise((r) => setTimeout(r, 10));
  }
}

void test('a config read failing with EMFILE is shown once, retried with backoff, and the edit applied when it passes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-cfgw-emfile-'));
  const file = join(dir, 'config.json');
  writeFileSync(file, '{"logging": {"level": "info"}}');
  const clock = new FakeClock();
  const load = { platform: 'linux' as const, hostName: 'h' };
  const changes = new ObservedCalls<[AgentConfig, AgentConfig]>();
  const invalid: string[] = [];
  const settled = new ObservedCalls<[]>();
  const observer = { changed: changes.record, invalid: (e: Error) => { invalid.push(e.message); }, settled: settled.record };
  const watcher = new ConfigWatcher(file, await loadConfig(file, {}, load), { clock, load, observer });
  await watcher.start();
  const real = fsp.open;
  let failing = true;
  let attempts = 0;
  const fake = mock.method(fsp, 'open', (path: Parameters<typeof fsp.open>[0], ...rest: unknown[]) => {
    if (path === file) attempts++;
    if (path !== file || !failing) return (real as (...a: unknown[]) => unknown)(path, ...rest);
    return Promise.reject(Object.assign(new Error(`EMFILE: too many open files, open '${file}'`), { code: 'EMFILE' }));
  });
  syncBuiltinESMExports();
  t.after(async () => {
    fake.mock.restore();
    syncBuiltinESMExports();
    await watcher.close();
    rmSync(dir, { recursive: true, force: true });
  });
  writeFileSync(file, '{"logging": {"level": "debug"}}');
  await clock.runUntil(settled.next());
  assert.equal(invalid.length, 1);
  assert.match(invalid[0]!, /EMFILE/);
  // More events in the directory, and time passing: no more reports, a few attempts.
  for (let i = 0; i < 5; i++) {
    writeFileSync(join(dir, `other-${i}.txt`), 'x');
    await clock.runUntil(settled.next());
  }
  const start = clock.now();
  await passTime(clock, () => clock.now() - start >= 10_000);
  assert.equal(invalid.length, 1, 'reported once per episode, not at every re-read');
  assert.ok(attempts < 30, `${attempts} read attempts`);
  failing = false;
  await passTime(clock, () => changes.count > 0);
  assert.equal(changes.count, 1, 'the edit made during the failure is applied once it passes, without a new event');
  const [next] = changes.all[0]!;
  assert.equal(next.logging.level, 'debug');
});
