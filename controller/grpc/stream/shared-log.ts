/**
 * Fan-out without a queue per subscriber. One stream kind's recent messages are kept
 * once, in a SharedLog, for the subscribers that are behind; each subscriber is a
 * LogReader: a position in that log. Messages travel in chunks of framed messages
 * (frames.ts), one write per chunk. A subscriber that keeps up is written to directly
 * and costs the log nothing; one that stalls costs nothing per message at all (it is
 * not visited), and when its stream drains it reads on from its position. What fell out
 * of the log meanwhile (drop-oldest, message by message, bounded by `capacity` messages and
 * `capacityBytes` bytes) is its exact loss, reported in-band by a notice where the gap is.
 *
 * So the work per published chunk is proportional to the subscribers that keep up, and
 * the memory of stalled ones is one shared, bounded window per stream, however many
 * there are.
 */
import { DropOldestQueue, type ByteAccount } from '../../buffer/index.js';
import { dropFrames, frame } from './frames.js';
import type { FrameSink } from './frame-sink.js';

/** Counters shared by every reader of one stream kind (read by metrics at scrape time). */
export interface StreamCounters {
  sent: number;
  dropped: number;
}

export interface SharedLogOptions {
  /** Messages a subscriber may fall behind (grpc.subscriberQueueSize). */
  capacity: number;
  /** Bytes a subscriber may fall behind (grpc.subscriberQueueBytes). */
  capacityBytes: number;
  account?: ByteAccount;
}

export class SharedLog {
  /** Chunks of framed messages; weight = messages in the chunk. */
  readonly chunks: DropOldestQueue<Buffer>;

  constructor(o: SharedLogOptions) {
    this.chunks = new DropOldestQueue('grpc.subscriberQueueSize', { weight: o.capacity, bytes: o.capacityBytes }, {
      account: o.account,
      trim: (frames, drop) => {
        const rest = dropFrames(frames, drop);
        return { item: rest, bytes: rest.length };
      },
    });
  }

  /** Messages held. */
  get size(): number { return this.chunks.weight; }

  append(frames: Buffer, count: number): void {
    this.chunks.push(frames, count, frames.length);
  }

  /** Nobody is behind: forget everything (positions go on). */
  clear(): void {
    this.chunks.clear();
  }
}

export interface LogReaderOptions {
  counters: StreamCounters;
  /** Encodes the in-band notice (the message, unframed) for `lost` messages (total lost so far: `totalLost`). */
  notice?: (lost: number, totalLost: number) => Buffer;
  observer: LogReaderObserver;
}

/** What a log reader tells (the notification style of docs/extending.md). */
export interface LogReaderObserver {
  /** A loss was reported (the notice was written). */
  reported?(lost: number, totalLost: number): void;
  /** The stream stopped accepting writes: the reader now waits in the log. */
  behind(reader: LogReader): void;
  /** The reader caught up with the log: written to directly again. */
  caughtUp(reader: LogReader): void;
}

export class LogReader {
  /** Messages handed to the stream (notices excluded). */
  sent = 0;
  private lost = 0;
  private unreported = 0;
  /** While behind: the log chunk it needs next, and that chunk's position in messages. */
  private nextChunk = 0;
  private nextMessage = 0;
  private behind = false;
  private closed = false;

  constructor(private readonly sink: FrameSink, private readonly log: SharedLog, private readonly o: LogReaderOptions) {}

  /** Messages this subscriber lost, exact (including those gone from the log while it waits). */
  get dropped(): number {
    return this.lost + this.pendingLoss();
  }

  /** Lost while waiting, not yet counted in the stream's counters. */
  pendingLoss(): number {
    return this.behind ? Math.max(0, this.log.chunks.firstWeight - this.nextMessage) : 0;
  }

  /**
   * A chunk of `count` messages published while this reader keeps up. It gets the log's
   * next chunk number (`log.chunks.end`), and is appended to the log if any reader is
   * behind after the offers.
   */
  offer(frames: Buffer, count: number): void {
    if (this.closed) return;
    this.sent += count;
    this.o.counters.sent += count;
    if (!this.sink.write(frames)) this.fallBehind(this.log.chunks.end + 1, this.log.chunks.endWeight + count);
  }

  /** Stops reading; returns how many messages of the log it never got. */
  close(): number {
    if (this.closed) return 0;
    this.realizeLoss();
    this.closed = true;
    this.sink.offDrain(this.onDrain);
    return this.behind ? Math.max(0, this.log.chunks.endWeight - this.nextMessage) : 0;
  }

  private fallBehind(nextChunk: number, nextMessage: number): void {
    this.nextChunk = nextChunk;
    this.nextMessage = nextMessage;
    this.behind = true;
    this.sink.onDrain(this.onDrain);
    this.o.observer.behind(this);
  }

  private readonly onDrain = (): void => {
    if (!this.closed) this.readOn();
  };

  /** What fell out of the log (whole chunks, or the head of the chunk it needs next) is lost. */
  private realizeLoss(): void {
    const chunks = this.log.chunks;
    if (!this.behind || this.nextMessage >= chunks.firstWeight) return;
    const lost = chunks.firstWeight - this.nextMessage;
    this.nextChunk = Math.max(this.nextChunk, chunks.first);
    this.nextMessage = chunks.firstWeight;
    this.lost += lost;
    this.unreported += lost;
    this.o.counters.dropped += lost;
  }

  /** From its position to the end of the log, until the stream refuses again. */
  private readOn(): void {
    const chunks = this.log.chunks;
    for (;;) {
      this.realizeLoss();
      if (this.unreported > 0) {
        const lost = this.unreported;
        this.unreported = 0;
        this.o.observer.reported?.(lost, this.lost);
        if (this.o.notice && !this.sink.write(frame(this.o.notice(lost, this.lost)))) return this.sink.onDrain(this.onDrain);
        continue;
      }
      if (this.nextChunk >= chunks.end) {
        this.behind = false;
        this.o.observer.caughtUp(this);
        return;
      }
      const count = chunks.weightAt(this.nextChunk);
      const frames = chunks.at(this.nextChunk++);
      this.nextMessage += count;
      this.sent += count;
      this.o.counters.sent += count;
      if (!this.sink.write(frames)) return this.sink.onDrain(this.onDrain);
    }
  }
}
