/**
 * LogBroker: the fan-out between the event pipeline and LogService subscribers.
 * The pipeline publishes each Alert / Log / Message once; the broker encodes it once
 * (only if someone is listening, with the fast encoders of encode.ts) and hands the same bytes to every subscriber's bounded
 * outbox, so a slow or stalled subscriber costs the publisher nothing and never delays
 * the others. Drops are per subscriber, exact, logged, counted in metrics and reported
 * to the subscriber in-band (an Alert/Log of Type SystemEvent, or a Message).
 * What stalled subscribers can cost is bounded: at most `maxSubscribers` at once (more
 * are refused, counted and logged), each queue bounded in messages and bytes, and the
 * bytes queued over all of them accounted.
 */
import type { Alert, Log, Message } from '../../../proto/gen/feeder.js';
import { encodeAlert, encodeLog, encodeMessage } from './encode.js';
import { Outbox, type QueueAccount, type StreamCounters, type WritableCall } from '../stream/outbox.js';
import { dropNotice, type NoticeContext } from './notice.js';
import type { GrpcLogger } from '../logger.js';

export type LogStream = 'alerts' | 'logs' | 'messages';
export const LOG_STREAMS: readonly LogStream[] = ['alerts', 'logs', 'messages'];

export interface LogBrokerOptions {
  /** Per-subscriber queue bound (config grpc.subscriberQueueSize). */
  queueSize: number;
  /** Per-subscriber queue bound in bytes (config grpc.subscriberQueueBytes); default: none. */
  queueBytes?: number;
  /** Subscribers at once over all streams (config grpc.maxSubscribers); default: no cap. */
  maxSubscribers?: number;
  /** HostName / ClusterName and clock for the drop notices. */
  notice: NoticeContext;
  logger?: GrpcLogger;
}

/** A live subscription; `close()` is idempotent. */
export interface Subscription {
  readonly id: number;
  readonly stream: LogStream;
  readonly outbox: Outbox;
  close(): void;
}

export class LogBroker {
  readonly counters: Record<LogStream, StreamCounters> = {
    alerts: { sent: 0, dropped: 0 },
    logs: { sent: 0, dropped: 0 },
    messages: { sent: 0, dropped: 0 },
  };
  /** Bytes queued for subscribers that are not reading, over all of them. */
  readonly queued: QueueAccount = { bytes: 0 };
  /** Subscriptions refused because maxSubscribers were connected. */
  refused = 0;
  /** Published while at least one subscriber of the stream was connected. */
  readonly published: Record<LogStream, number> = { alerts: 0, logs: 0, messages: 0 };
  private readonly subscribers: Record<LogStream, Set<Subscription>> = {
    alerts: new Set(),
    logs: new Set(),
    messages: new Set(),
  };
  private nextId = 1;
  private readonly onClose = new Set<() => void>();
  /** A refusal was logged and no subscriber left since: one log line per episode at the cap. */
  private refusing = false;

  constructor(private readonly options: LogBrokerOptions) {
    if (!Number.isInteger(options.queueSize) || options.queueSize < 1) {
      throw new RangeError(`grpc.subscriberQueueSize must be a positive integer, got ${options.queueSize}`);
    }
    const cap = options.maxSubscribers;
    if (cap !== undefined && (!Number.isInteger(cap) || cap < 1)) throw new RangeError(`grpc.maxSubscribers must be a positive integer, got ${cap}`);
  }

  publishAlert(alert: Alert): void {
    if (this.subscribers.alerts.size === 0) return;
    this.fanOut('alerts', encodeAlert(alert));
  }

  publishLog(log: Log): void {
    if (this.subscribers.logs.size === 0) return;
    this.fanOut('logs', encodeLog(log));
  }

  publishMessage(message: Message): void {
    if (this.subscribers.messages.size === 0) return;
    this.fanOut('messages', encodeMessage(message));
  }

  get maxSubscribers(): number | undefined {
    return this.options.maxSubscribers;
  }

  /** True when someone listens: lets the pipeline skip building messages nobody reads. */
  hasSubscribers(stream: LogStream): boolean {
    return this.subscribers[stream].size > 0;
  }

  subscriberCount(stream?: LogStream): number {
    if (stream) return this.subscribers[stream].size;
    return LOG_STREAMS.reduce((n, s) => n + this.subscribers[s].size, 0);
  }

  /**
   * Attaches a grpc-js server stream; the caller closes the subscription when the call
   * ends. undefined: refused, `maxSubscribers` are connected (counted; the caller ends the call).
   */
  subscribe(stream: LogStream, call: WritableCall, peer = ''): Subscription | undefined {
    const logger = this.options.logger;
    const cap = this.options.maxSubscribers;
    if (cap !== undefined && this.subscriberCount() >= cap) {
      this.refused++;
      if (!this.refusing) logger?.warn('gRPC subscriber refused: grpc.maxSubscribers are connected', { stream, peer, maxSubscribers: cap });
      this.refusing = true;
      return undefined;
    }
    const id = this.nextId++;
    const set = this.subscribers[stream];
    const outbox = new Outbox(call, {
      capacity: this.options.queueSize,
      capacityBytes: this.options.queueBytes,
      account: this.queued,
      counters: this.counters[stream],
      notice: (lost, total) => dropNotice(stream, lost, total, this.options),
      onReported: (lost, total) =>
        logger?.warn('gRPC subscriber too slow: messages dropped', { stream, subscriber: id, peer, lost, totalLost: total, queueSize: this.options.queueSize }),
    });
    const subscription: Subscription = {
      id, stream, outbox,
      close: () => {
        if (!set.delete(subscription)) return;
        this.refusing = false;
        const pending = outbox.close();
        logger?.info('gRPC subscriber left', { stream, subscriber: id, peer, sent: outbox.sent, dropped: outbox.dropped, unsent: pending });
      },
    };
    set.add(subscription);
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
    for (const listener of [...this.onClose]) listener();
    for (const stream of LOG_STREAMS) for (const sub of [...this.subscribers[stream]]) sub.close();
  }

  private fanOut(stream: LogStream, bytes: Buffer): void {
    this.published[stream]++;
    for (const sub of this.subscribers[stream]) sub.outbox.push(bytes);
  }
}
