/**
 * LogBroker: the fan-out between the event pipeline and LogService subscribers.
 * The pipeline publishes each Alert / Log / Message once; the broker encodes it once
 * (only if someone is listening, with the fast encoders of encode.ts) into the stream's
 * current chunk of framed messages. A chunk closes when it is full or when the current
 * turn of the event loop ends (a microtask), and goes in one write to every subscriber
 * that keeps up (stream/frame-sink.ts: grpc-js's per-message write path would cost more
 * than building the alert), and once per stream into a bounded shared log for those
 * that are behind (stream/shared-log.ts): a slow or stalled subscriber
 * costs the publisher nothing per message and never delays the others. Drops are per
 * subscriber, exact, logged, counted in metrics and reported to the subscriber in-band
 * (an Alert/Log of Type SystemEvent, or a Message). At most `maxSubscribers` at once:
 * more are refused, counted and logged.
 */
import type { Logger } from '../../observability/index.js';
import type { Alert, Log, Message } from '../../../proto/gen/feeder.js';
import type { ByteAccount } from '../../buffer/index.js';
import { encodeAlert, encodeLog, encodeMessage, type FeedEncoder } from './encode.js';
import { frameSink, type WritableCall } from '../stream/frame-sink.js';
import { FrameBatch } from '../stream/frames.js';
import { LogReader, SharedLog, type StreamCounters } from '../stream/shared-log.js';
import { dropNotice, LOG_STREAMS, type LogStream, type NoticeContext } from './notice.js';

export { LOG_STREAMS, type LogStream } from './notice.js';

/** A chunk closes at this many messages (or at grpc.subscriberQueueSize, if smaller)… */
const CHUNK_MESSAGES = 512;
/**
 * …or at this many bytes (or half grpc.subscriberQueueBytes): enough messages (~45
 * alerts) that a write costs little per message, and no more than an HTTP/2 stream's own
 * write buffer (16 KiB), since a stalled subscriber holds the chunk it refused on top of it.
 */
const CHUNK_BYTES = 16 * 1024;

export interface LogBrokerOptions {
  /** Messages a subscriber may fall behind (config grpc.subscriberQueueSize). */
  queueSize: number;
  /** Bytes a subscriber may fall behind (config grpc.subscriberQueueBytes); default: no byte bound. */
  queueBytes?: number;
  /** Subscribers at once over all streams (config grpc.maxSubscribers); default: no cap. */
  maxSubscribers?: number;
  /** HostName / ClusterName and clock for the drop notices. */
  notice: NoticeContext;
  logger?: Logger;
}

/** A live subscription; `close()` is idempotent. */
export interface Subscription {
  readonly id: number;
  readonly stream: LogStream;
  readonly reader: LogReader;
  close(): void;
}

export class LogBroker {
  readonly counters: Record<LogStream, StreamCounters> = {
    alerts: { sent: 0, dropped: 0 },
    logs: { sent: 0, dropped: 0 },
    messages: { sent: 0, dropped: 0 },
  };
  /** Bytes kept for subscribers that are behind (the shared logs of the three streams). */
  readonly queued: ByteAccount = { bytes: 0 };
  /** Subscriptions refused because maxSubscribers were connected. */
  refused = 0;
  /** Published while at least one subscriber of the stream was connected. */
  readonly published: Record<LogStream, number> = { alerts: 0, logs: 0, messages: 0 };
  private readonly subscribers: Record<LogStream, Set<Subscription>> = {
    alerts: new Set(),
    logs: new Set(),
    messages: new Set(),
  };
  /** Subscribers that keep up: written to on publish. The others wait in the stream's log. */
  private readonly current: Record<LogStream, Set<LogReader>> = { alerts: new Set(), logs: new Set(), messages: new Set() };
  private readonly behind: Record<LogStream, Set<LogReader>> = { alerts: new Set(), logs: new Set(), messages: new Set() };
  private readonly logs: Record<LogStream, SharedLog>;
  /** Messages published in this turn of the event loop, not yet written. */
  private readonly batches: Record<LogStream, FrameBatch> = {
    alerts: new FrameBatch(), logs: new FrameBatch(), messages: new FrameBatch(),
  };
  private readonly chunkMessages: number;
  private readonly chunkBytes: number;
  private flushQueued = false;
  private nextId = 1;
  /** Slots held by other services' watchers (takeSlot). */
  private external = 0;
  private readonly onClose = new Set<() => void>();
  /** A refusal was logged and no subscriber left since: one log line per episode at the cap. */
  private refusing = false;

  constructor(private readonly options: LogBrokerOptions) {
    if (!Number.isInteger(options.queueSize) || options.queueSize < 1) {
      throw new RangeError(`grpc.subscriberQueueSize must be a positive integer, got ${options.queueSize}`);
    }
    const cap = options.maxSubscribers;
    if (cap !== undefined && (!Number.isInteger(cap) || cap < 1)) throw new RangeError(`grpc.maxSubscribers must be a positive integer, got ${cap}`);
    const log = (): SharedLog => new SharedLog({ capacity: options.queueSize, capacityBytes: options.queueBytes ?? Infinity, account: this.queued });
    this.logs = { alerts: log(), logs: log(), messages: log() };
    this.chunkMessages = Math.min(CHUNK_MESSAGES, options.queueSize);
    this.chunkBytes = Math.min(CHUNK_BYTES, (options.queueBytes ?? Infinity) / 2);
  }

  /** Messages dropped for subscribers of `stream`, exact, including those still behind. */
  dropped(stream: LogStream): number {
    let pending = 0;
    for (const r of this.behind[stream]) pending += r.pendingLoss();
    return this.counters[stream].dropped + pending;
  }

  publishAlert(alert: Alert): void {
    this.publish('alerts', encodeAlert, alert);
  }

  publishLog(log: Log): void {
    this.publish('logs', encodeLog, log);
  }

  publishMessage(message: Message): void {
    this.publish('messages', encodeMessage, message);
  }

  /** Writes out what was published in this turn (also done by a microtask at its end). */
  flush(): void {
    this.flushQueued = false;
    for (const stream of LOG_STREAMS) this.flushStream(stream);
  }

  get maxSubscribers(): number | undefined {
    return this.options.maxSubscribers;
  }

  /** True when someone listens: lets the pipeline skip building messages nobody reads. */
  hasSubscribers(stream: LogStream): boolean {
    return this.subscribers[stream].size > 0;
  }

  /** Subscribers of `stream`; without one, all of them, other services' watchers (takeSlot) included. */
  subscriberCount(stream?: LogStream): number {
    if (stream) return this.subscribers[stream].size;
    return LOG_STREAMS.reduce((n, s) => n + this.subscribers[s].size, this.external);
  }

  /**
   * A place under `maxSubscribers` for a stream another service serves (StateAgent
   * WatchState), so that one cap bounds every subscriber. Returns its release function
   * (idempotent), or undefined when full (counted and logged as a refusal).
   */
  takeSlot(stream: string, peer = ''): (() => void) | undefined {
    if (this.atCap(stream, peer)) return undefined;
    this.external++;
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      this.external--;
      this.refusing = false;
    };
  }

  /** True (counted, logged once per episode) when `maxSubscribers` are connected. */
  private atCap(stream: string, peer: string): boolean {
    const cap = this.options.maxSubscribers;
    if (cap === undefined || this.subscriberCount() < cap) return false;
    this.refused++;
    if (!this.refusing) this.options.logger?.warn('gRPC subscriber refused: grpc.maxSubscribers are connected', { stream, peer, maxSubscribers: cap });
    this.refusing = true;
    return true;
  }

  /**
   * Attaches a grpc-js server stream; the caller closes the subscription when the call
   * ends. undefined: refused, `maxSubscribers` are connected (counted; the caller ends the call).
   */
  subscribe(stream: LogStream, call: WritableCall, peer = ''): Subscription | undefined {
    const logger = this.options.logger;
    if (this.atCap(stream, peer)) return undefined;
    const id = this.nextId++;
    const set = this.subscribers[stream];
    const current = this.current[stream];
    const behind = this.behind[stream];
    const reader = new LogReader(frameSink(call), this.logs[stream], {
      counters: this.counters[stream],
      notice: (lost, total) => dropNotice(stream, lost, total, this.options),
      observer: {
        reported: (lost, total) =>
          logger?.warn('gRPC subscriber too slow: messages dropped', { stream, subscriber: id, peer, lost, totalLost: total, queueSize: this.options.queueSize }),
        behind: (r) => { current.delete(r); behind.add(r); },
        caughtUp: (r) => { behind.delete(r); current.add(r); this.trim(stream); },
      },
    });
    const subscription: Subscription = {
      id, stream, reader,
      close: () => {
        if (!set.delete(subscription)) return;
        this.refusing = false;
        const unsent = reader.close();
        current.delete(reader);
        behind.delete(reader);
        this.trim(stream);
        logger?.info('gRPC subscriber left', { stream, subscriber: id, peer, sent: reader.sent, dropped: reader.dropped, unsent });
      },
    };
    set.add(subscription);
    current.add(reader);
    logger?.info('gRPC subscriber joined', { stream, subscriber: id, peer });
    return subscription;
  }

  /** Registers a callback run by close() (the service ends its streams with it). */
  onShutdown(listener: () => void): () => void {
    this.onClose.add(listener);
    return () => this.onClose.delete(listener);
  }

  /** Ends every subscription (server shutdown). */
  close(): void {
    this.flush();
    for (const listener of [...this.onClose]) listener();
    for (const stream of LOG_STREAMS) for (const sub of [...this.subscribers[stream]]) sub.close();
  }

  private publish<T>(stream: LogStream, encode: FeedEncoder<T>, record: T): void {
    if (this.subscribers[stream].size === 0) return;
    this.published[stream]++;
    const batch = this.batches[stream];
    encode.frameInto(record, batch);
    if (batch.count >= this.chunkMessages || batch.bytes >= this.chunkBytes) this.flushStream(stream);
    else if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => this.flush());
    }
  }

  /** The stream's chunk to every reader that keeps up, and into the log if any is behind. */
  private flushStream(stream: LogStream): void {
    const batch = this.batches[stream];
    if (batch.count === 0) return;
    const count = batch.count;
    const frames = batch.take();
    for (const reader of this.current[stream]) reader.offer(frames, count);
    if (this.behind[stream].size > 0) this.logs[stream].append(frames, count);
  }

  /** Nobody behind: the stream's log holds nothing. */
  private trim(stream: LogStream): void {
    if (this.behind[stream].size === 0) this.logs[stream].clear();
  }
}
