/**
 * In-band drop notices. A subscriber that lost messages gets, where the gap is, one
 * message of its own stream's type saying how many: an Alert or Log of Type
 * `SystemEvent` (Operation `Dropped`), or a Message of Level `WARN`. karmor prints them
 * like any other event, so the loss is visible to the person watching.
 */
import { Alert, Log, Message } from '../../../proto/gen/feeder.js';

/** The three LogService streams a subscriber can watch. */
export type LogStream = 'alerts' | 'logs' | 'messages';
export const LOG_STREAMS: readonly LogStream[] = ['alerts', 'logs', 'messages'];

export interface NoticeContext {
  hostName: string;
  clusterName: string;
  /** Current time in milliseconds since the epoch (injectable for tests). */
  now?: () => number;
}

/** RFC 3339 UTC with microseconds, as upstream's UpdatedTime. */
export function rfc3339Micro(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function text(stream: LogStream, lost: number, total: number, queueSize: number, queueBytes: number | undefined): string {
  const bytes = queueBytes === undefined ? '' : ` or ${queueBytes} bytes, grpc.subscriberQueueBytes`;
  return `kawin: this subscriber was too slow and lost ${lost} ${stream} (${total} in total on this stream; queue size ${queueSize}, config grpc.subscriberQueueSize${bytes})`;
}

export function dropNotice(stream: LogStream, lost: number, total: number, opts: { notice: NoticeContext; queueSize: number; queueBytes?: number }): Buffer {
  const ms = (opts.notice.now ?? Date.now)();
  const common = {
    Timestamp: Math.floor(ms / 1000),
    UpdatedTime: rfc3339Micro(ms),
    ClusterName: opts.notice.clusterName,
    HostName: opts.notice.hostName,
  };
  const message = text(stream, lost, total, opts.queueSize, opts.queueBytes);
  const data = `lost=${lost} total=${total} queueSize=${opts.queueSize}`;
  let bytes: Uint8Array;
  if (stream === 'alerts') {
    bytes = Alert.encode(Alert.fromPartial({ ...common, Type: 'SystemEvent', Operation: 'Dropped', Message: message, Data: data, Enforcer: 'kawin' })).finish();
  } else if (stream === 'logs') {
    bytes = Log.encode(Log.fromPartial({ ...common, Type: 'SystemEvent', Operation: 'Dropped', Data: data, Resource: message })).finish();
  } else {
    bytes = Message.encode(Message.fromPartial({ ...common, Type: 'SystemEvent', Level: 'WARN', Message: message })).finish();
  }
  return Buffer.from(bytes);
}
