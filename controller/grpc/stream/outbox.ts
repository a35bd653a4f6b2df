/**
 * One subscriber's outbox: a bounded queue of pre-encoded messages in front of a
 * grpc-js server stream (StateAgent's WatchState; the log feed uses the shared log of
 * shared-log.ts instead). While the stream accepts writes, messages go straight through;
 * when `write()` returns false the outbox waits for 'drain' and queues up to `capacity`
 * messages and `capacityBytes` bytes (a DropOldestQueue), dropping the oldest beyond
 * either. Drops are counted exactly and, when the stream drains, reported in-band by a
 * notice placed where the gap is (drop-oldest always leaves the gap at the head of the
 * queue). Nothing here ever blocks the caller.
 */
import { DropOldestQueue, type ByteAccount } from '../../buffer/index.js';
import type { WritableCall } from './frame-sink.js';
import type { StreamCounters } from './shared-log.js';

export interface OutboxOptions {
  /** Messages held while the stream is not accepting writes (named limit: grpc.subscriberQueueSize). */
  capacity: number;
  /** Bytes held while the stream is not accepting writes (grpc.subscriberQueueBytes); default: no byte bound. */
  capacityBytes?: number;
  /** Where the queued bytes are accounted. */
  account?: ByteAccount;
  counters: StreamCounters;
  /** Encodes the in-band notice for `lost` messages (total lost so far: `totalLost`). */
  notice?: (lost: number, totalLost: number) => Buffer;
  observer?: OutboxObserver;
}

/** What an outbox tells (the notification style of docs/extending.md). */
export interface OutboxObserver {
  /** After every drop, with the outbox's total drop count. */
  dropped?(totalLost: number): void;
  /** A drop episode was reported (the notice was written). */
  reported?(lost: number, totalLost: number): void;
}

export class Outbox {
  private readonly queue: DropOldestQueue<Buffer>;
  private waiting = false;
  private closed = false;
  private unreported = 0;
  /** Messages handed to the stream (notices excluded). */
  sent = 0;

  constructor(private readonly call: WritableCall, private readonly options: OutboxOptions) {
    this.queue = new DropOldestQueue('grpc.subscriberQueueSize', { weight: options.capacity, bytes: options.capacityBytes }, { account: options.account });
  }

  /** Messages this subscriber lost; exact. */
  get dropped(): number { return this.queue.dropped; }
  get queued(): number { return this.queue.length; }
  get queuedBytes(): number { return this.queue.bytes; }

  push(message: Buffer): void {
    if (this.closed) return;
    if (!this.waiting && this.queue.length === 0 && this.unreported === 0) {
      this.write(message);
      return;
    }
    const lost = this.queue.push(message, 1, message.length);
    if (lost === 0) return;
    this.unreported += lost;
    this.options.counters.dropped += lost;
    this.options.observer?.dropped?.(this.queue.dropped);
  }

  /** Stops writing; returns how many queued messages were never sent. */
  close(): number {
    if (this.closed) return 0;
    this.closed = true;
    this.call.removeListener('drain', this.onDrain);
    return this.queue.clear();
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
      const message = this.queue.shift();
      if (message === undefined) return;
      this.write(message);
    }
  }

  private report(): void {
    const lost = this.unreported;
    this.unreported = 0;
    this.options.observer?.reported?.(lost, this.queue.dropped);
    if (this.options.notice) this.writeRaw(this.options.notice(lost, this.queue.dropped));
  }
}
