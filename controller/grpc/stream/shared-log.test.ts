import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { LogReader, SharedLog } from './shared-log.js';
import { frame, messagesOf } from './frames.js';
import type { FrameSink } from './frame-sink.js';

/** A stream that accepts `room` writes (of whole chunks), then refuses until drained; records the messages. */
class FakeSink extends EventEmitter implements FrameSink {
  readonly direct = true;
  written: string[] = [];
  writes = 0;
  constructor(public room: number) { super(); }
  write(frames: Buffer): boolean {
    this.writes++;
    for (const m of messagesOf(frames)) this.written.push(m.toString());
    return --this.room > 0;
  }
  onDrain(l: () => void): void { this.once('drain', l); }
  offDrain(l: () => void): void { this.removeListener('drain', l); }
  drain(room: number): void {
    this.room = room;
    this.emit('drain');
  }
}

const msg = (i: number) => Buffer.from(String(i).padStart(4, '0'));
const chunk = (...ids: number[]) => Buffer.concat(ids.map((i) => frame(msg(i))));

/** A broker in miniature: readers that keep up get each chunk, the log keeps it for the others. */
function fanout(capacity: number, capacityBytes = Infinity) {
  const log = new SharedLog({ capacity, capacityBytes });
  const current = new Set<LogReader>();
  const behind = new Set<LogReader>();
  const counters = { sent: 0, dropped: 0 };
  const reader = (sink: FakeSink) => {
    const r = new LogReader(sink, log, {
      counters, notice: (lost, total) => Buffer.from(`lost ${lost} of ${total}`),
      observer: {
        behind: (x) => { current.delete(x); behind.add(x); },
        caughtUp: (x) => { behind.delete(x); current.add(x); if (behind.size === 0) log.clear(); },
      },
    });
    current.add(r);
    return r;
  };
  const publish = (...ids: number[]) => {
    const frames = chunk(...ids);
    for (const r of current) r.offer(frames, ids.length);
    if (behind.size > 0) log.append(frames, ids.length);
  };
  return { log, reader, publish, counters, behind };
}

const ids = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => String(from + i).padStart(4, '0'));

void test('a stalled reader is not visited per chunk; on drain it reads on, with one notice where the gap is', () => {
  const f = fanout(5);
  const fast = new FakeSink(1e9);
  const slow = new FakeSink(2);
  f.reader(fast);
  const r = f.reader(slow);
  for (let i = 0; i < 20; i++) f.publish(i);
  assert.equal(fast.written.length, 20);
  assert.deepEqual(slow.written, ['0000', '0001'], 'stopped at the refused write');
  assert.equal(f.log.size, 5, 'the log keeps the newest 5 for it');
  assert.equal(r.dropped, 13, 'messages 2..14 fell out of the log: exact while it waits');
  slow.drain(100);
  assert.deepEqual(slow.written.slice(2), ['lost 13 of 13', ...ids(15, 20)]);
  assert.deepEqual(f.counters, { sent: 20 + 7, dropped: 13 });
  assert.equal(f.log.size, 0, 'nobody behind: the log is empty');
  f.publish(20);
  assert.equal(slow.written.at(-1), '0020', 'caught up: written to directly');
});

void test('chunks go in one write each; loss is counted in messages', () => {
  const f = fanout(6);
  const slow = new FakeSink(1);
  const r = f.reader(slow);
  f.publish(0, 1, 2); // written, then the sink refuses
  for (let c = 1; c < 6; c++) f.publish(c * 3, c * 3 + 1, c * 3 + 2); // chunks 1..5 into a log of 6 messages
  assert.equal(slow.writes, 1, 'one write for three messages');
  assert.equal(f.log.size, 6, 'the newest two chunks');
  assert.equal(r.dropped, 9, 'chunks 1..3 (9 messages) fell out');
  slow.drain(100);
  assert.deepEqual(slow.written, [...ids(0, 3), 'lost 9 of 9', ...ids(12, 18)]);
  assert.equal(slow.writes, 4, 'the first chunk, the notice, two chunks');
});

void test('a chunk that no longer fits whole loses only its oldest messages', () => {
  const f = fanout(5);
  const slow = new FakeSink(1);
  f.reader(slow);
  f.publish(0); // written; the sink refuses from now on
  f.publish(1, 2, 3);
  f.publish(4, 5, 6, 7); // 7 > 5: messages 1 and 2 go, 3 stays
  slow.drain(100);
  assert.deepEqual(slow.written, ['0000', 'lost 2 of 2', ...ids(3, 8)]);
});

void test('the log is bounded in bytes too, and grows with use across wrap-around', () => {
  const f = fanout(1000, 90);
  const slow = new FakeSink(1);
  f.reader(slow);
  for (let i = 0; i < 100; i++) f.publish(i);
  assert.equal(f.log.size, 10, 'ten framed messages of 9 bytes fit in 90');
  assert.equal(f.log.chunks.bytes, 90);
  slow.drain(1000);
  assert.deepEqual(slow.written.slice(-10), ids(90, 100));
  const g = fanout(64);
  const stalled = new FakeSink(1);
  g.reader(stalled);
  for (let i = 0; i < 50; i++) g.publish(i); // grows from 16 slots, sequence numbers past the slots
  stalled.drain(1000);
  assert.deepEqual(stalled.written.map(Number), Array.from({ length: 50 }, (_, i) => i));
});

void test('close() counts what fell out of the log as dropped and says what was never sent', () => {
  const f = fanout(3);
  const slow = new FakeSink(1);
  const r = f.reader(slow);
  for (let i = 0; i < 10; i++) f.publish(i);
  assert.equal(r.close(), 3, 'three still in the log, never sent');
  assert.equal(f.counters.dropped, 6, 'messages 1..6 fell out of the log');
  assert.equal(r.dropped, 6);
});
