/** Adapters from the pipeline's EventSink to what consumes records. */
import type { AlertRecord, EventSink, LogRecord, MessageRecord } from './types.js';

/** The publishing side of the gRPC LogBroker (controller/grpc/logs). */
export interface LogPublisher {
  publishAlert(alert: AlertRecord): void;
  publishLog(log: LogRecord): void;
  publishMessage(message: MessageRecord): void;
  hasSubscribers?(stream: 'alerts' | 'logs' | 'messages'): boolean;
}

export function publisherSink(publisher: LogPublisher): EventSink {
  return {
    alert: (a) => publisher.publishAlert(a),
    log: (l) => publisher.publishLog(l),
    message: (m) => publisher.publishMessage(m),
    wants: (kind) => publisher.hasSubscribers?.(kind === 'alert' ? 'alerts' : 'logs') ?? true,
  };
}
