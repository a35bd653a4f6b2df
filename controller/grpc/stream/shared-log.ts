/**
 * Fan-out without a queue per subscriber. One stream kind's recent messages are kept
 * once, in a SharedLog, for the subscribers that are behind; each subscriber is a
 * LogReader: a position in that log. A subscriber that keeps up is written to directly
 * and costs the log nothing; one that stalls costs nothing per message at all (it is
 * not visited), and when its stream drains it reads on from its position. What fell out
 * of the log meanwhile (drop-oldest, bounded by `capacity` messages and `capacityBytes`
 * bytes) is its exact loss, reported in-band by a notice where the gap is.
 *
 * So the work per published message is proportional to the subscribers that keep up,
 * and the memory of stalled ones is one shared, bounded window per stream, however many
 * there are.
 */
import type { QueueAccount, StreamCounters, WritableCall } from './outbox.js';

const INITIAL_SLOTS = 16;

export interface SharedLogOptions {
  /** Messages a subscriber may fall behind (grpc.subscriberQueueSize). */
  capacity: number;
  /** Bytes a subscriber may fall behind (grpc.subscriberQueueBytes). */
  capacityBytes: number;
  account?: QueueAccount;
}

export class SharedLog {
  private ring: (Buffer | undefined)[] = [];
  /** Sequence number of the oldest message held. */
  first = 0;
  /** Sequence number the next appended message gets. */
  end = 0;
  bytes = 0;

  constructor(private readonly o: SharedLogOptions) {
    if (!Number.isInteger(o.capacity) || o.capacity < 1) throw new RangeError(`subscriber queue size must be a positive integer, got ${o.capacity}`);
    if (!(o.capacityBytes > 0)) throw new RangeError(`subscriber queue bytes must be positive, got ${o.capacityBytes}`);
    this.ring = new Array<Buffer | undefined>(Math.min(INITIAL_SLOTS, o.capacity));
  }

  get size(): number {
    return this.end - this.first;
  }

  append(message: Buffer): void {
    while (this.size > 0 && (this.size >= this.o.capacity || this.bytes + message.length > this.o.capacityBytes)) this.evict();
    if (this.size === this.ring.length) this.grow();
    this.ring[this.end % this.ring.length] = message;
    this.end++;
    this.account(message.length);
  }

  /** The message with sequence number `seq` (first ≤ seq < end). */
  get(seq: number): Buffer {
    return this.ring[seq % this.ring.length]!;
  }

  /** Nobody is behind: forget everything (the sequence numbers go on). */
  clear(): void {
    while (this.size > 0) this.evict();
  }

  private evict(): void {
    const i = this.first % this.ring.length;
    const message = this.ring[i]!;
    this.ring[i] = undefined;
    this.first++;
    this.account(-message.length);
  }

  /** Twice the slots (at most `capacity`); any run of ≤ length sequence numbers maps to distinct slots. */
  private grow(): void {
    const next = new Array<Buffer | undefined>(Math.min(this.ring.length * 2, this.o.capacity));
    for (let s = this.first; s < this.end; s++) next[s % next.length] = this.ring[s % this.ring.length];
    this.ring = next;
  }

  private account(delta: number): void {
    this.bytes += delta;
    if (this.o.account) this.o.account.bytes += delta;
  }
}

export interface LogReaderOptions {
  counters: StreamCounters;
  /** Encodes the in-band notice for `lost` messages (total lost so far: `totalLost`). */
  notice?: (lost: number, totalLost: number) => Buffer;
  /** Called when a loss is reported (the notice was written). */
  onReported?: (lost: number, totalLost: number) => void;
  /** The stream stopped accepting writes: the reader now waits in the log. */
  onBehind: (reader: LogReader) => void;
  /** The reader caught up with the log: written to directly again. */
  onCaughtUp: (reader: LogReader) => void;
}

export class LogReader {
  /** Messages handed to the stream (notices excluded). */
  sent = 0;
  private lost = 0;
  private unreported = 0;
  /** While behind: the sequence number of the next message it needs. */
  private next = 0;
  private behind = false;
  private closed = false;

  constructor(private readonly call: WritableCall, private readonly log: SharedLog, private readonly o: LogReaderOptions) {}

  /** Messages this subscriber lost, exact (including those gone from the log while it waits). */
  get dropped(): number {
    return this.lost + this.pendingLoss();
  }

  /** Lost while waiting, not yet counted in the stream's counters. */
  pendingLoss(): number {
    return this.behind ? Math.max(0, this.log.first - this.next) : 0;
  }

  /** A message published while this reader keeps up; `seq` is the number it has in the log. */
  offer(message: Buffer, seq: number): void {
    if (this.closed) return;
    this.sent++;
    this.o.counters.sent++;
    if (!this.call.write(message)) this.fallBehind(seq + 1);
  }

  /** Stops reading; returns how many messages of the log it never got. */
  close(): number {
    if (this.closed) return 0;
    this.realizeLoss();
    this.closed = true;
    this.call.removeListener('drain', this.onDrain);
    return this.behind ? Math.max(0, this.log.end - this.next) : 0;
  }

  private fallBehind(next: number): void {
    this.next = next;
    this.behind = true;
    this.call.once('drain', this.onDrain);
    this.o.onBehind(this);
  }

  private readonly onDrain = (): void => {
    if (!this.closed) this.readOn();
  };

  private realizeLoss(): void {
    const lost = this.pendingLoss();
    if (lost === 0) return;
    this.next += lost;
    this.lost += lost;
    this.unreported += lost;
    this.o.counters.dropped += lost;
  }

  /** From its position to the end of the log, until the stream refuses again. */
  private readOn(): void {
    for (;;) {
      this.realizeLoss();
      if (this.unreported > 0) {
        const lost = this.unreported;
        this.unreported = 0;
        this.o.onReported?.(lost, this.lost);
        if (this.o.notice && !this.call.write(this.o.notice(lost, this.lost))) return void this.call.once('drain', this.onDrain);
        continue;
      }
      if (this.next >= this.log.end) {
        this.behind = false;
        this.o.onCaughtUp(this);
        return;
      }
      const message = this.log.get(this.next++);
      this.sent++;
      this.o.counters.sent++;
      if (!this.call.write(message)) return void this.call.once('drain', this.onDrain);
    }
  }
}
