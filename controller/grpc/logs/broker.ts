/**
 * LogBroker: the fan-out between the event pipeline and LogService subscribers.
 * The pipeline publishes each Alert / Log / Message once; the broker encodes it once
 * (only if someone is listening, with the fast encoders of encode.ts) and hands the same bytes to every subscriber's bounded
 * outbox, so a slow or stalled subscriber costs the publisher nothing and never delays
 * the others. Drops are per subscriber, exact, logged, counted in metrics and reported
 * to the subscriber in-band (an Alert/Log of Type SystemEvent, or a Message).
 */
import type { Logger } from '../../observability/index.js';
import type { Alert, Log, Message } from '../../../proto/gen/feeder.js';
import { encodeAlert, encodeLog, encodeMessage } from './encode.js';
import { Outbox, type StreamCounters, type WritableCall } from '../stream/outbox.js';
import { dropNotice, LOG_STREAMS, type LogStream, type NoticeContext } from './notice.js';

export { LOG_STREAMS, type LogStream } from './notice.js';

export interface LogBrokerOptions {
  /** Per-subscriber queue bound (config grpc.subscriberQueueSize). */
  queueSize: number;
  /** HostName / ClusterName and clock for the drop notices. */
  notice: NoticeContext;
  logger?: Logger;
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
  /** Published while at least one subscriber of the stream was connected. */
  readonly published: Record<LogStream, number> = { alerts: 0, logs: 0, messages: 0 };
  private readonly subscribers: Record<LogStream, Set<Subscription>> = {
    alerts: new Set(),
    logs: new Set(),
    messages: new Set(),
  };
  private nextId = 1;
  private readonly onClose = new Set<() => void>();

  constructor(private readonly options: LogBrokerOptions) {
    if (!Number.isInteger(options.queueSize) || options.queueSize < 1) {
      throw new RangeError(`grpc.subscriberQueueSize must be a positive integer, got ${options.queueSize}`);
    }
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

  /** True when someone listens: lets the pipeline skip building messages nobody reads. */
  hasSubscribers(stream: LogStream): boolean {
    return this.subscribers[stream].size > 0;
  }

  subscriberCount(stream?: LogStream): number {
    if (stream) return this.subscribers[stream].size;
    return LOG_STREAMS.reduce((n, s) => n + this.subscribers[s].size, 0);
  }

  /** Attaches a grpc-js server stream; the caller closes the subscription when the call ends. */
  subscribe(stream: LogStream, call: WritableCall, peer = ''): Subscription {
    const id = this.nextId++;
    const set = this.subscribers[stream];
    const logger = this.options.logger;
    const outbox = new Outbox(call, {
      capacity: this.options.queueSize,
      counters: this.counters[stream],
      notice: (lost, total) => dropNotice(stream, lost, total, this.options),
      onReported: (lost, total) =>
        logger?.warn('gRPC subscriber too slow: messages dropped', { stream, subscriber: id, peer, lost, totalLost: total, queueSize: this.options.queueSize }),
    });
    const subscription: Subscription = {
      id, stream, outbox,
      close: () => {
        if (!set.delete(subscription)) return;
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
