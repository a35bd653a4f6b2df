/**
 * feeder.LogService over a LogBroker. HealthCheck echoes the nonce. Filters mirror
 * upstream's feeder: WatchAlerts accepts `all` and `policy`, WatchLogs `all` and
 * `system`, and an accepted filter selects the whole stream (upstream validates the
 * filter but sends every alert / log to every subscriber); WatchMessages ignores it.
 * Upstream ends a stream with an unknown filter silently; kawin ends it with
 * INVALID_ARGUMENT so the user sees why nothing arrives.
 */
import { status, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { LogServiceService, type NonceMessage, type ReplyMessage, type RequestMessage } from '../../../proto/gen/feeder.js';
import type { LogBroker, LogStream } from './broker.js';
import type { GrpcServiceBinding } from '../binding.js';

const FILTERS: Record<LogStream, readonly string[] | undefined> = {
  alerts: ['all', 'policy'],
  logs: ['all', 'system'],
  messages: undefined,
};

/** The broker writes encoded bytes; the stream must not encode them again. */
const passThrough = (value: Buffer): Buffer => value;

export const logServiceDefinition = {
  ...LogServiceService,
  watchMessages: { ...LogServiceService.watchMessages, responseSerialize: passThrough },
  watchAlerts: { ...LogServiceService.watchAlerts, responseSerialize: passThrough },
  watchLogs: { ...LogServiceService.watchLogs, responseSerialize: passThrough },
};

function watch(broker: LogBroker, stream: LogStream) {
  return (call: ServerWritableStream<RequestMessage, Buffer>): void => {
    const allowed = FILTERS[stream];
    const filter = call.request.Filter;
    if (allowed && !allowed.includes(filter)) {
      call.emit('error', { code: status.INVALID_ARGUMENT, details: `unknown filter '${filter}' for ${stream}: use ${allowed.map((f) => `'${f}'`).join(' or ')}` });
      return;
    }
    const subscription = broker.subscribe(stream, call, call.getPeer());
    if (!subscription) {
      call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `too many subscribers (grpc.maxSubscribers is ${broker.maxSubscribers}): try again later` });
      return;
    }
    const end = (): void => subscription.close();
    const stopOnShutdown = broker.onShutdown(() => {
      end();
      call.end();
    });
    call.on('cancelled', end);
    call.on('close', end);
    call.on('finish', end);
    call.on('error', end); // a write to a vanished peer: the subscription just ends
    call.on('close', stopOnShutdown);
  };
}

export function logServiceBinding(broker: LogBroker): GrpcServiceBinding {
  const implementation: UntypedServiceImplementation = {
    healthCheck: (call: { request: NonceMessage }, callback: (e: null, r: ReplyMessage) => void) =>
      callback(null, { Retval: call.request.nonce }),
    watchMessages: watch(broker, 'messages'),
    watchAlerts: watch(broker, 'alerts'),
    watchLogs: watch(broker, 'logs'),
  };
  return { name: 'feeder.LogService', definition: logServiceDefinition, implementation, changesPolicy: false, shutdown: () => broker.close() };
}
