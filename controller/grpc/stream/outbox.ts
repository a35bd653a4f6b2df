/**
 * One subscriber's outbox: a bounded queue of pre-encoded messages in front of a
 * grpc-js server stream. While the stream accepts writes, messages go straight through;
 * when `write()` returns false the outbox waits for 'drain' and queues up to `capacity`
 * messages and `capacityBytes` bytes, dropping the oldest beyond either. Drops are
 * counted exactly and, when the stream drains, reported in-band by a notice placed where
 * the gap is (drop-oldest always leaves the gap at the head of the queue). Nothing here
 * ever blocks the caller. The queue grows with use (an idle subscriber holds a few
 * slots, not `capacity`), and its bytes are added to a shared account.
 */

/** The part of a grpc-js ServerWritableStream the outbox uses. */
export interface WritableCall {
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
}

/** Counters shared by every outbox of one stream kind (read by metrics at scrape time). */
export interface StreamCounters {
  sent: number;
  dropped: number;
}

/** Bytes queued in outboxes, shared by those it accounts for (read by metrics). */
export interface QueueAccount {
  bytes: number;
}

const INITIAL_SLOTS = 16;

export interface OutboxOptions {
  /** Messages held while the stream is not accepting writes (named limit: grpc.subscriberQueueSize). */
  capacity: number;
  /** Bytes held while the stream is not accepting writes (grpc.subscriberQueueBytes); default: no byte bound. */
  capacityBytes?: number;
  /** Where the queued bytes are accounted. */
  account?: QueueAccount;
  counters: StreamCounters;
  /** Encodes the in-band notice for `lost` messages (total lost so far: `totalLost`). */
  notice?: (lost: number, totalLost: number) => Buffer;
  /** Called after every drop with the outbox's total drop count. */
  onDrop?: (totalLost: number) => void;
  /** Called when a drop episode is reported (the notice was written). */
  onReported?: (lost: number, totalLost: number) => void;
}

export class Outbox {
  private ring: (Buffer | undefined)[];
  private head = 0;
  private size = 0;
  private bytes = 0;
  private readonly capacityBytes: number;
  private waiting = false;
  private closed = false;
  private unreported = 0;
  /** Messages handed to the stream (notices excluded). */
  sent = 0;
  /** Messages this subscriber lost; exact. */
  dropped = 0;

  constructor(private readonly call: WritableCall, private readonly options: OutboxOptions) {
    if (!Number.isInteger(options.capacity) || options.capacity < 1) {
      throw new RangeError(`subscriber queue size must be a positive integer, got ${options.capacity}`);
    }
    this.capacityBytes = options.capacityBytes ?? Infinity;
    if (!(this.capacityBytes > 0)) throw new RangeError(`subscriber queue bytes must be positive, got ${options.capacityBytes}`);
    this.ring = new Array<Buffer | undefined>(Math.min(INITIAL_SLOTS, options.capacity));
  }

  get queued(): number {
    return this.size;
  }

  get queuedBytes(): number {
    return this.bytes;
  }

  push(message: Buffer): void {
    if (this.closed) return;
    if (!this.waiting && this.size === 0 && this.unreported === 0) {
      this.write(message);
      return;
    }
    while (this.size > 0 && (this.size === this.options.capacity || this.bytes + message.length > this.capacityBytes)) this.dropOldest();
    if (this.size === this.ring.length) this.grow();
    this.ring[(this.head + this.size) % this.ring.length] = message;
    this.size++;
    this.account(message.length);
  }

  /** Stops writing; returns how many queued messages were never sent. */
  close(): number {
    if (this.closed) return 0;
    this.closed = true;
    this.call.removeListener('drain', this.onDrain);
    const pending = this.size;
    this.ring = [];
    this.size = 0;
    this.account(-this.bytes);
    return pending;
  }

  private account(delta: number): void {
    this.bytes += delta;
    if (this.options.account) this.options.account.bytes += delta;
  }

  /** Twice the slots (at most `capacity`), the queue unwrapped to the start. */
  private grow(): void {
    const next = new Array<Buffer | undefined>(Math.min(this.ring.length * 2, this.options.capacity));
    for (let i = 0; i < this.size; i++) next[i] = this.ring[(this.head + i) % this.ring.length];
    this.ring = next;
    this.head = 0;
  }

  /** Takes the oldest queued message out of the queue and the account. */
  private shift(): Buffer {
    const message = this.ring[this.head]!;
    this.ring[this.head] = undefined;
    this.head = (this.head + 1) % this.ring.length;
    this.size--;
    this.account(-message.length);
    return message;
  }

  private dropOldest(): void {
    this.shift();
    this.dropped++;
    this.unreported++;
    this.options.counters.dropped++;
    this.options.onDrop?.(this.dropped);
  }

  private write(message: Buffer): void {
    this.sent++;
    this.options.counters.sent++;
    this.writeRaw(message);
  }

  private writeRaw(message: Buffer): void {
    if (!this.call.write(message)) {
      this.waiting = true;
      this.call.once('drain', this.onDrain);
    }
  }

  private readonly onDrain = (): void => {
    this.waiting = false;
    this.flush();
  };

  private flush(): void {
    while (!this.waiting && !this.closed) {
      if (this.unreported > 0) {
        this.report();
        continue;
      }
      if (this.size === 0) return;
      this.write(this.shift());
    }
  }

  private report(): void {
    const lost = this.unreported;
    this.unreported = 0;
    this.options.onReported?.(lost, this.dropped);
    if (this.options.notice) this.writeRaw(this.options.notice(lost, this.dropped));
  }
}
