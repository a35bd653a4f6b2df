import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DropOldestQueue } from './drop-oldest.js';

void test('first in, first out; when full the oldest go, and the loss is counted by weight', () => {
  const q = new DropOldestQueue<string>('test.queueSize', { weight: 5 });
  assert.equal(q.push('a', 2), 0);
  assert.equal(q.push('b', 2), 0);
  assert.equal(q.push('c', 2), 2, 'a (weight 2) made room for c');
  assert.deepEqual([q.weight, q.length, q.dropped], [4, 2, 2]);
  assert.equal(q.shift(), 'b');
  assert.equal(q.shift(), 'c');
  assert.equal(q.shift(), undefined);
  assert.equal(q.dropped, 2, 'shift is not a drop');
});

void test('an item heavier than the limit is kept alone (the newest is never refused)', () => {
  const q = new DropOldestQueue<string>('test.queueSize', { weight: 3 });
  q.push('a');
  assert.equal(q.push('big', 10), 1);
  assert.deepEqual(q.drain(), ['big']);
});

void test('a byte bound evicts the oldest as well, and a shared account follows the bytes held', () => {
  const account = { bytes: 0 };
  const q = new DropOldestQueue<number>('test.queueBytes', { weight: 100, bytes: 250 }, { account });
  for (let i = 0; i < 10; i++) q.push(i, 1, 100);
  assert.deepEqual([q.length, q.bytes, account.bytes, q.dropped], [2, 200, 200, 8]);
  assert.equal(q.shift(), 8);
  assert.equal(account.bytes, 100);
  assert.equal(q.clear(), 1);
  assert.equal(account.bytes, 0);
  assert.equal(q.dropped, 8, 'clear() is not counted as a drop');
});

void test('sequence numbers and weight positions say exactly what a reader missed', () => {
  const q = new DropOldestQueue<string>('test.queueSize', { weight: 6 });
  for (const [item, w] of [['a', 3], ['b', 2], ['c', 3], ['d', 1]] as const) q.push(item, w);
  // a was evicted for c (3+2+3 > 6), then d fits: held b, c, d from weight position 3
  assert.deepEqual([q.first, q.end, q.firstWeight, q.endWeight], [1, 4, 3, 9]);
  assert.equal(q.at(3), 'd');
  assert.equal(q.weightAt(2), 3);
  assert.throws(() => q.at(0), /item 0 is not held/);
});

void test('slots grow with use, not with the limit, and wrap-around keeps order', () => {
  const q = new DropOldestQueue<number>('test.queueSize', { weight: 1 << 20 });
  assert.ok(q.allocated <= 16, `an idle queue holds ${q.allocated} slots`);
  for (let i = 0; i < 10; i++) q.push(i);
  for (let i = 0; i < 5; i++) q.shift();
  for (let i = 10; i < 110; i++) q.push(i);
  assert.ok(q.allocated >= 105 && q.allocated <= 256, `${q.allocated} slots for 105 held`);
  assert.deepEqual(q.drain(), Array.from({ length: 105 }, (_, i) => i + 5));
});

void test('the limit is named in its error', () => {
  assert.throws(() => new DropOldestQueue('events.queueSize', { weight: 0 }), /events\.queueSize must be a positive integer, got 0/);
});

void test('with a trim, only as much of the oldest item goes as makes room: the limit holds exactly', () => {
  const account = { bytes: 0 };
  const q = new DropOldestQueue<number[]>('test.queueSize', { weight: 5, bytes: 100 }, {
    account, trim: (batch, drop) => ({ item: batch.slice(drop), bytes: (batch.length - drop) * 10 }),
  });
  q.push([1, 2, 3], 3, 30);
  assert.equal(q.push([4, 5, 6], 3, 30), 1, 'one event of the oldest batch, not all three');
  assert.deepEqual([q.weight, q.firstWeight, q.first], [5, 1, 0]);
  assert.equal(q.push([7, 8, 9, 10, 11, 12, 13], 7, 70), 5, 'the oldest whole batches first');
  assert.deepEqual(q.drain(), [[7, 8, 9, 10, 11, 12, 13]]);
  const b = new DropOldestQueue<number[]>('test.queueBytes', { weight: 100, bytes: 100 }, {
    account, trim: (batch, drop) => ({ item: batch.slice(drop), bytes: (batch.length - drop) * 10 }),
  });
  b.push([1, 2, 3, 4, 5, 6, 7, 8], 8, 80);
  assert.equal(b.push([9, 10, 11], 3, 30), 1, 'ten bytes too many: one event');
  assert.deepEqual(b.drain(), [[2, 3, 4, 5, 6, 7, 8], [9, 10, 11]]);
  assert.equal(account.bytes, 0);
});
