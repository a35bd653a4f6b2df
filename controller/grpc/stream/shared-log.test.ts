import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { LogReader, SharedLog } from './shared-log.js';

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

const msg = (i: number) => Buffer.from(String(i).padStart(4, '0'));

/** A broker in miniature: readers that keep up get each message, the log keeps it for the others. */
function fanout(capacity: number, capacityBytes = Infinity) {
  const log = new SharedLog({ capacity, capacityBytes });
  const current = new Set<LogReader>();
  const behind = new Set<LogReader>();
  const counters = { sent: 0, dropped: 0 };
  const reader = (call: FakeCall) => {
    const r = new LogReader(call, log, {
      counters, notice: (lost, total) => Buffer.from(`lost ${lost} of ${total}`),
      onBehind: (x) => { current.delete(x); behind.add(x); },
      onCaughtUp: (x) => { behind.delete(x); current.add(x); if (behind.size === 0) log.clear(); },
    });
    current.add(r);
    return r;
  };
  const publish = (m: Buffer) => {
    const seq = log.end;
    for (const r of current) r.offer(m, seq);
    if (behind.size > 0) log.append(m);
  };
  return { log, reader, publish, counters, behind };
}

void test('a stalled reader is not visited per message; on drain it reads on, with one notice where the gap is', () => {
  const f = fanout(5);
  const fast = new FakeCall(1e9);
  const slow = new FakeCall(2);
  f.reader(fast);
  const r = f.reader(slow);
  for (let i = 0; i < 20; i++) f.publish(msg(i));
  assert.equal(fast.written.length, 20);
  assert.deepEqual(slow.written, ['0000', '0001'], 'stopped at the refused write');
  assert.equal(f.log.size, 5, 'the log keeps the newest 5 for it');
  assert.equal(r.dropped, 13, 'messages 2..14 fell out of the log: exact while it waits');
  slow.drain(100);
  assert.deepEqual(slow.written.slice(2), ['lost 13 of 13', '0015', '0016', '0017', '0018', '0019']);
  assert.deepEqual(f.counters, { sent: 20 + 7, dropped: 13 });
  assert.equal(f.log.size, 0, 'nobody behind: the log is empty');
  f.publish(msg(20));
  assert.equal(slow.written.at(-1), '0020', 'caught up: written to directly');
});

void test('the log is bounded in bytes too, and grows with use across wrap-around', () => {
  const f = fanout(1000, 40);
  const slow = new FakeCall(1);
  f.reader(slow);
  for (let i = 0; i < 100; i++) f.publish(msg(i));
  assert.equal(f.log.size, 10, 'ten messages of 4 bytes fit in 40');
  assert.equal(f.log.bytes, 40);
  slow.drain(1000);
  assert.deepEqual(slow.written.slice(-10), Array.from({ length: 10 }, (_, i) => String(90 + i).padStart(4, '0')));
  const g = fanout(64);
  const stalled = new FakeCall(1);
  g.reader(stalled);
  for (let i = 0; i < 50; i++) g.publish(msg(i)); // grows from 16 slots, sequence numbers past the slots
  stalled.drain(1000);
  assert.deepEqual(stalled.written.map(Number), Array.from({ length: 50 }, (_, i) => i));
});

void test('close() counts what fell out of the log as dropped and says what was never sent', () => {
  const f = fanout(3);
  const slow = new FakeCall(1);
  const r = f.reader(slow);
  for (let i = 0; i < 10; i++) f.publish(msg(i));
  assert.equal(r.close(), 3, 'three still in the log, never sent');
  assert.equal(f.counters.dropped, 6, 'messages 1..6 fell out of the log');
  assert.equal(r.dropped, 6);
});
