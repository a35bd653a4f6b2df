import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../clock/index.js';
import { Debouncer } from './debounce.js';

function counted(timing: { quietMs: number; maxWaitMs: number }): { clock: FakeClock; d: Debouncer; fired: number[] } {
  const clock = new FakeClock(0);
  const fired: number[] = [];
  const d = new Debouncer(clock, timing, () => fired.push(clock.now()));
  return { clock, d, fired };
}

void test('a burst fires once, a quiet period after its last event', () => {
  const { clock, d, fired } = counted({ quietMs: 100, maxWaitMs: 1000 });
  d.touch();
  clock.advance(60);
  d.touch();
  clock.advance(60);
  d.touch();
  clock.advance(99);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, [220]);
  assert.equal(d.pending, false);
});

void test('a steady writer cannot postpone it past the maximum wait from the first event', () => {
  const { clock, d, fired } = counted({ quietMs: 100, maxWaitMs: 300 });
  for (let t = 0; t < 700; t += 50) {
    d.touch();
    clock.advance(50);
  }
  assert.deepEqual(fired, [300, 600], 'each burst is bounded by maxWaitMs from its first event');
  clock.advance(100);
  assert.deepEqual(fired, [300, 600, 750], 'the last events, once quiet');
});

void test('a maximum wait not above the quiet period is a fixed window from the first event', () => {
  const { clock, d, fired } = counted({ quietMs: 200, maxWaitMs: 0 });
  d.touch();
  clock.advance(0);
  assert.deepEqual(fired, [0]);
  const w = counted({ quietMs: 200, maxWaitMs: 200 });
  w.d.touch();
  w.clock.advance(150);
  w.d.touch();
  w.clock.advance(50);
  assert.deepEqual(w.fired, [200]);
});

void test('cancel drops a pending burst; retime applies from the next event', () => {
  const { clock, d, fired } = counted({ quietMs: 100, maxWaitMs: 1000 });
  d.touch();
  d.cancel();
  clock.advance(1000);
  assert.deepEqual(fired, []);
  assert.equal(clock.pending, 0);
  d.retime({ quietMs: 10, maxWaitMs: 10 });
  d.touch();
  clock.advance(10);
  assert.deepEqual(fired, [1010]);
});

void test('an event during fire starts the next burst', () => {
  const clock = new FakeClock(0);
  const fired: number[] = [];
  const d: Debouncer = new Debouncer(clock, { quietMs: 100, maxWaitMs: 100 }, () => {
    fired.push(clock.now());
    if (fired.length === 1) d.touch();
  });
  d.touch();
  clock.advance(200);
  assert.deepEqual(fired, [100, 200]);
});
