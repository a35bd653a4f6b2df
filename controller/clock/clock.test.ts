import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock, realClock, sleep, sliceTurn } from './index.js';

void test('fake timers fire in due order, including ones set while advancing', () => {
  const clock = new FakeClock(0);
  const fired: string[] = [];
  clock.setTimeout(() => fired.push('b@20'), 20);
  clock.setTimeout(() => {
    fired.push('a@10');
    clock.setTimeout(() => fired.push('c@15'), 5);
  }, 10);
  const cancelled = clock.setTimeout(() => fired.push('never'), 12);
  clock.clearTimeout(cancelled);
  clock.advance(15);
  assert.deepEqual(fired, ['a@10', 'c@15']);
  assert.equal(clock.now(), 15);
  assert.equal(clock.nextTimerIn(), 5);
  clock.advance(5);
  assert.deepEqual(fired, ['a@10', 'c@15', 'b@20']);
  assert.equal(clock.pending, 0);
});

void test('waitForTimers resolves once a timer is armed; sleep follows the fake clock', async () => {
  const clock = new FakeClock(0);
  let slept = false;
  const armed = clock.waitForTimers(1);
  const s = sleep(clock, 1000).then(() => (slept = true));
  await armed;
  await clock.advanceAsync(999);
  assert.equal(slept, false);
  await clock.advanceAsync(1);
  await s;
  assert.equal(slept, true);
});

void test('sleep rejects when aborted and clears its timer', async () => {
  const clock = new FakeClock(0);
  const ac = new AbortController();
  const s = sleep(clock, 1000, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(s, /stop/);
  assert.equal(clock.pending, 0);
});

void test('the real clock runs timers', async () => {
  await sleep(realClock, 1);
  const h = realClock.setTimeout(() => assert.fail('cancelled timer fired'), 1);
  realClock.clearTimeout(h);
  await sleep(realClock, 5);
});

void test('runUntil fires timers as they are armed until the outcome arrives', async () => {
  const clock = new FakeClock(0);
  const outcome = new Promise<string>((resolve) => {
    setImmediate(() => clock.setTimeout(() => clock.setTimeout(() => resolve('done'), 50), 200));
  });
  assert.equal(await clock.runUntil(outcome), 'done');
  assert.equal(clock.now(), 250);
});

void test('slicers that yield in the same turn go on in turns of their own, in order', async () => {
  const order: string[] = [];
  const done = [sliceTurn().then(() => order.push('a')), sliceTurn().then(() => order.push('b')), sliceTurn().then(() => order.push('c'))];
  // Queued after the three, in the same turn: with a plain setImmediate all three would run before it.
  setImmediate(() => order.push('next immediate'));
  await Promise.all(done);
  assert.deepEqual(order, ['a', 'next immediate', 'b', 'c']);
});

