import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { Outbox } from './outbox.js';

/** A stream that accepts `room` writes, then refuses until drained. */
class FakeCall extends EventEmitter {
  written: string[] = [];
  constructor(public room: number) { super(); }
  write(chunk: Buffer): boolean {
    this.written.push(chunk.toString());
    return --this.room > 0;
  }
  drain(room: number): void {
    this.room = room;
    this.emit('drain');
  }
}

const msg = (i: number) => Buffer.from(String(i));

void test('writes straight through while the stream accepts, queues while it does not', () => {
  const call = new FakeCall(3);
  const counters = { sent: 0, dropped: 0 };
  const box = new Outbox(call, { capacity: 10, counters });
  for (let i = 0; i < 8; i++) box.push(msg(i));
  assert.deepEqual(call.written, ['0', '1', '2']);
  assert.equal(box.queued, 5);
  call.drain(100);
  assert.deepEqual(call.written, ['0', '1', '2', '3', '4', '5', '6', '7']);
  assert.equal(box.queued, 0);
  assert.deepEqual(counters, { sent: 8, dropped: 0 });
});

void test('drop-oldest with an exact count, reported once where the gap is', () => {
  const call = new FakeCall(1);
  const counters = { sent: 0, dropped: 0 };
  const reports: [number, number][] = [];
  const box = new Outbox(call, {
    capacity: 4, counters,
    notice: (lost, total) => Buffer.from(`lost ${lost}/${total}`),
    observer: { reported: (lost, total) => reports.push([lost, total]) },
  });
  for (let i = 0; i < 11; i++) box.push(msg(i)); // 0 written, 1..10 offered to a queue of 4
  assert.equal(box.dropped, 6);
  call.drain(2); // notice, then 7 — then full again
  assert.deepEqual(call.written, ['0', 'lost 6/6', '7']);
  for (let i = 11; i < 14; i++) box.push(msg(i)); // queue 8 9 10 + 11, 12, 13: drops 8 and 9
  call.drain(100);
  assert.deepEqual(call.written, ['0', 'lost 6/6', '7', 'lost 2/8', '10', '11', '12', '13']);
  assert.deepEqual(reports, [[6, 6], [2, 8]]);
  assert.equal(counters.dropped, 8);
  assert.equal(counters.sent, 1 + 1 + 4);
  assert.equal(box.close(), 0);
  box.push(msg(99));
  assert.equal(call.written.at(-1), '13', 'closed outbox writes nothing');
});

void test('queue size must be a positive integer', () => {
  assert.throws(() => new Outbox(new FakeCall(1), { capacity: 0, counters: { sent: 0, dropped: 0 } }), /positive integer/);
});

void test('the queue is bounded in bytes as well: the oldest go first, and the bytes are accounted', () => {
  const call = new FakeCall(1);
  const counters = { sent: 0, dropped: 0 };
  const account = { bytes: 0 };
  const box = new Outbox(call, { capacity: 1000, capacityBytes: 250, counters, account });
  box.push(Buffer.alloc(10)); // written; the stream now refuses
  for (let i = 0; i < 10; i++) box.push(Buffer.alloc(100, i));
  assert.equal(box.queued, 2, 'two messages of 100 bytes fit in 250');
  assert.equal(box.queuedBytes, 200);
  assert.equal(account.bytes, 200);
  assert.equal(counters.dropped, 8);
  call.drain(100);
  assert.equal(account.bytes, 0, 'written messages leave the account');
  assert.deepEqual(call.written.slice(-2).map((b) => b.charCodeAt(0)), [8, 9], 'the newest were kept');
  for (let i = 0; i < 3; i++) box.push(Buffer.alloc(100));
  box.close();
  assert.equal(account.bytes, 0, 'a closed outbox gives its bytes back');
});
