import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../clock/index.js';
import { WorkQueue, runWorkers, TerminalError } from './index.js';

function newQueue(clock = new FakeClock()) {
  const depths: number[] = [];
  let retries = 0;
  const queue = new WorkQueue<string>({
    clock,
    backoff: { initialMs: 100, maxMs: 1000 },
    observer: { depth: (d) => depths.push(d), retry: () => retries++ },
  });
  return { queue, clock, depths, retries: () => retries };
}

void test('a burst of adds of one key coalesces into one run', async () => {
  const { queue } = newQueue();
  for (let i = 0; i < 100; i++) queue.add('policy');
  queue.add('other');
  assert.equal(queue.length, 2);
  assert.equal(await queue.get(), 'policy');
  assert.equal(await queue.get(), 'other');
  assert.equal(queue.length, 0);
});

void test('a key re-added while processing runs once more after done, never concurrently', async () => {
  const { queue } = newQueue();
  queue.add('k');
  const key = await queue.get();
  queue.add('k');
  queue.add('k');
  assert.equal(queue.length, 0, 'not handed out while processing');
  let second: string | undefined;
  void queue.get().then((k) => (second = k));
  await Promise.resolve();
  assert.equal(second, undefined);
  queue.done(key!);
  await Promise.resolve();
  assert.equal(second, 'k');
  queue.done('k');
  assert.equal(queue.length, 0, 'exactly one more run');
});

void test('get waits for a key and is released by shutDown', async () => {
  const { queue } = newQueue();
  const waiting = queue.get();
  queue.add('a');
  assert.equal(await waiting, 'a');
  queue.done('a');
  const idle = queue.get();
  queue.shutDown();
  assert.equal(await idle, undefined);
  queue.add('b');
  assert.equal(await queue.get(), undefined, 'adds after shutdown are ignored');
});

void test('shutDown still hands out queued keys, then undefined', async () => {
  const { queue } = newQueue();
  queue.add('a');
  queue.addAfter('later', 50);
  queue.shutDown();
  assert.equal(queue.delayedCount, 0);
  assert.equal(await queue.get(), 'a');
  assert.equal(await queue.get(), undefined);
});

void test('addAfter fires on the clock and keeps the earliest of several delays', () => {
  const { queue, clock } = newQueue();
  queue.addAfter('k', 500);
  queue.addAfter('k', 200);
  queue.addAfter('k', 900);
  assert.equal(clock.pending, 1);
  clock.advance(199);
  assert.equal(queue.length, 0);
  clock.advance(1);
  assert.equal(queue.length, 1);
  clock.advance(1000);
  assert.equal(queue.length, 1, 'the later delays were dropped');
});

void test('addRateLimited backs off exponentially per key up to the bound, forget resets', () => {
  const { queue, retries } = newQueue();
  const delays = Array.from({ length: 6 }, () => queue.addRateLimited('k'));
  assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000]);
  assert.equal(queue.addRateLimited('other'), 100, 'backoff is per key');
  assert.equal(queue.retries('k'), 6);
  assert.equal(retries(), 7);
  queue.forget('k');
  assert.equal(queue.retries('k'), 0);
  assert.equal(queue.addRateLimited('k'), 100);
  queue.setBackoff({ initialMs: 5, maxMs: 10 });
  assert.equal(queue.addRateLimited('k'), 10);
});

void test('depth is reported as keys are queued and taken', async () => {
  const { queue, depths } = newQueue();
  queue.add('a');
  queue.add('b');
  await queue.get();
  assert.deepEqual(depths, [1, 2, 1]);
});

void test('runWorkers retries failures with backoff, forgets on success, honours requeueAfter', async () => {
  const clock = new FakeClock();
  const { queue } = newQueue(clock);
  const runs: string[] = [];
  let failuresLeft = 2;
  const errors: Array<number | undefined> = [];
  const done = runWorkers(queue, async (key) => {
    runs.push(`${key}@${clock.now() - Date.UTC(2026, 0, 1)}`);
    if (key === 'flaky' && failuresLeft-- > 0) throw new Error('driver busy');
    if (key === 'bad') throw new TerminalError('invalid');
    return key === 'resync' ? { requeueAfterMs: 300 } : undefined;
  }, { observer: { failed: (_k, _e, delay) => errors.push(delay) } });
  queue.add('flaky');
  queue.add('bad');
  queue.add('resync');
  await clock.advanceAsync(0);
  assert.deepEqual(runs, ['flaky@0', 'bad@0', 'resync@0']);
  await clock.advanceAsync(100);
  await clock.advanceAsync(200);
  await clock.advanceAsync(100);
  assert.deepEqual(runs.slice(3), ['flaky@100', 'resync@300', 'flaky@300']);
  assert.deepEqual(errors, [100, undefined, 200]);
  assert.equal(queue.retries('flaky'), 0, 'forgotten after success');
  assert.equal(queue.retries('bad'), 0, 'terminal errors are not retried');
  queue.shutDown();
  await done;
  assert.equal(queue.processingCount, 0);
});

void test('two workers never process the same key at once', async () => {
  const { queue } = newQueue();
  let active = 0;
  let maxActive = 0;
  let runs = 0;
  const gates: Array<() => void> = [];
  const done = runWorkers(queue, async () => {
    active++;
    runs++;
    maxActive = Math.max(maxActive, active);
    await new Promise<void>((resolve) => gates.push(resolve));
    active--;
  }, { workers: 2 });
  queue.add('k');
  await new Promise((r) => setImmediate(r));
  queue.add('k');
  await new Promise((r) => setImmediate(r));
  assert.equal(active, 1);
  gates.shift()!();
  await new Promise((r) => setImmediate(r));
  assert.equal(runs, 2, 'ran once more after finishing');
  gates.shift()!();
  await queue.whenIdle();
  assert.equal(maxActive, 1);
  queue.shutDown();
  await done;
});
