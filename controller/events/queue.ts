/**
 * The bounded hand-off between the driver reader and the record builder: batches go in
 * whole (no copy) into a DropOldestQueue (events.queueSize, in events), events come out
 * one by one. When full, the OLDEST events are dropped (as the driver's own ring does;
 * a batch only partly, if that makes room) and counted, so the reader never waits.
 */
import type { HostEvent } from '../../driver/client/index.js';
import { DropOldestQueue } from '../buffer/index.js';

export class EventQueue {
  private readonly batches: DropOldestQueue<HostEvent[]>;
  /** The batch being taken apart, and the next event in it (out of the queue: no longer droppable). */
  private current: HostEvent[] = [];
  private offset = 0;

  constructor(capacity: number) {
    this.batches = new DropOldestQueue('events.queueSize', { weight: capacity }, {
      trim: (events, drop) => ({ item: events.slice(drop), bytes: 0 }),
    });
  }

  get capacity(): number { return this.batches.capacity; }

  get size(): number { return this.batches.weight + this.current.length - this.offset; }

  /** Enqueue a batch; returns how many queued events were dropped to make room. */
  push(events: HostEvent[]): number {
    if (events.length === 0) return 0;
    let dropped = 0;
    if (events.length > this.capacity) {
      dropped = events.length - this.capacity;
      events = events.slice(dropped);
    }
    return dropped + this.batches.push(events, events.length);
  }

  shift(): HostEvent | undefined {
    if (this.offset >= this.current.length) {
      const next = this.batches.shift();
      if (next === undefined) return undefined;
      this.current = next;
      this.offset = 0;
    }
    return this.current[this.offset++];
  }
}
