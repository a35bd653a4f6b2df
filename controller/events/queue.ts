/**
 * The bounded hand-off between the driver reader and the record builder: batches go in
 * whole (no copy), events come out one by one. When full, the OLDEST events are dropped
 * (as the driver's own ring does) and counted, so the reader never waits.
 */
import type { DriverEvent } from '../../driver/abi/types.js';

export class EventQueue {
  private batches: DriverEvent[][] = [];
  private head = 0;
  private offset = 0;
  private length = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`events.queueSize must be a positive integer, got ${capacity}`);
    }
  }

  get size(): number { return this.length; }

  /** Enqueue a batch; returns how many queued events were dropped to make room. */
  push(events: DriverEvent[]): number {
    if (events.length === 0) return 0;
    let dropped = 0;
    if (events.length > this.capacity) {
      dropped = events.length - this.capacity;
      events = events.slice(dropped);
    }
    const over = this.length + events.length - this.capacity;
    if (over > 0) dropped += this.dropOldest(over);
    this.batches.push(events);
    this.length += events.length;
    return dropped;
  }

  shift(): DriverEvent | undefined {
    const batch = this.batches[this.head];
    if (batch === undefined) return undefined;
    const ev = batch[this.offset++];
    this.length--;
    if (this.offset >= batch.length) this.nextBatch();
    return ev;
  }

  private dropOldest(count: number): number {
    let left = count;
    while (left > 0) {
      const batch = this.batches[this.head];
      if (batch === undefined) break;
      const remaining = batch.length - this.offset;
      if (remaining <= left) {
        left -= remaining;
        this.length -= remaining;
        this.nextBatch();
      } else {
        this.offset += left;
        this.length -= left;
        left = 0;
      }
    }
    return count - left;
  }

  private nextBatch(): void {
    this.batches[this.head] = undefined as unknown as DriverEvent[];
    this.head++;
    this.offset = 0;
    // Compact now and then so the array of consumed slots does not grow without end.
    if (this.head > 1024 && this.head * 2 > this.batches.length) {
      this.batches = this.batches.slice(this.head);
      this.head = 0;
    }
  }
}
