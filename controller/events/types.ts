/**
 * The records the event pipeline produces and the sinks it feeds. The record shapes are
 * KubeArmor's `feeder.Alert`, `feeder.Log` and `feeder.Message` with the proto field
 * names (see ../../../shared/design/kubearmor-api.md): the interfaces ts-proto generates
 * from proto/feeder.proto, so a record goes to the gRPC encoder as it is.
 */
import type { Alert, Log, Message } from '../../proto/gen/feeder.js';

export type AlertRecord = Alert;
export type LogRecord = Log;
export type MessageRecord = Message;

/**
 * Where records go: the gRPC LogBroker, the JSON-lines outputs. Every method must return
 * at once (queue or drop, never wait): the pipeline calls them on its hot path.
 */
export interface EventSink {
  alert(alert: AlertRecord): void;
  log(log: LogRecord): void;
  message(message: MessageRecord): void;
  /**
   * Whether this sink would use records of a kind right now (e.g. a gRPC stream has
   * subscribers). When no sink wants a kind, the pipeline counts the event but does not
   * build the record. Absent: always.
   */
  wants?(kind: 'alert' | 'log'): boolean;
}

/** The stage that lost events: the driver's ring, or the pipeline's own queue. */
export type DropStage = 'driver' | 'pipeline';
