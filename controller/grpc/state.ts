/**
 * state_agent.StateAgent: the node and its applied policies as upstream-style state
 * events (Kind `node` / `policy` / `namespace` / `container`, Type `added` / `updated`
 * / `deleted`, Object = JSON bytes). As upstream, GetState sends the whole current state
 * in one StateEvents message and ends; WatchState streams changes only. A watcher that
 * falls more than `queueSize` events behind has lost state it cannot rebuild from the
 * stream, so its stream ends with RESOURCE_EXHAUSTED telling it to GetState again; so
 * does one more than `queueBytes` behind. Watchers count under grpc.maxSubscribers with
 * the LogService streams (`slots`): beyond, WatchState is refused with RESOURCE_EXHAUSTED.
 */
import type { Logger } from '../observability/index.js';
import { Metadata, status, type ServerWritableStream, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { StateAgentService, StateEvent, type StateEvents } from '../../proto/gen/state_agent.js';
import { Outbox } from './stream/outbox.js';
import type { GrpcServiceBinding } from './binding.js';

export const STATE_KIND = { node: 'node', policy: 'policy', namespace: 'namespace', container: 'container', pod: 'pod' } as const;
export const STATE_TYPE = { added: 'added', updated: 'updated', deleted: 'deleted' } as const;

/** One state event as the agent produces it; `object` is serialized as JSON. */
export interface AgentStateEvent {
  kind: string;
  type: string;
  name: string;
  object: unknown;
}

/** Implemented by the agent: its current state and its changes. */
export interface StateProvider {
  snapshot(): AgentStateEvent[];
  /** Calls `listener` on every change; returns the unsubscribe function. */
  subscribe(listener: (event: AgentStateEvent) => void): () => void;
}

/** Where a watcher takes its place under grpc.maxSubscribers (the LogBroker: one cap for every subscriber). */
export interface SubscriberSlots {
  takeSlot(stream: string, peer?: string): (() => void) | undefined;
  readonly maxSubscribers?: number;
}

export interface StateAgentOptions {
  /** Events a watcher may fall behind before its stream is ended (config grpc.subscriberQueueSize). */
  queueSize: number;
  /** Bytes a watcher may fall behind before its stream is ended (config grpc.subscriberQueueBytes); default: no byte bound. */
  queueBytes?: number;
  /** The cap on subscribers, shared with LogService; absent: no cap. */
  slots?: SubscriberSlots;
  logger?: Logger;
}

export function toStateEvent(e: AgentStateEvent): StateEvent {
  return { Kind: e.kind, Type: e.type, Name: e.name, Object: Buffer.from(JSON.stringify(e.object ?? null)) };
}

const passThrough = (value: Buffer): Buffer => value;
export const stateAgentDefinition = { ...StateAgentService, watchState: { ...StateAgentService.watchState, responseSerialize: passThrough } };

export function stateAgentBinding(provider: StateProvider, options: StateAgentOptions): GrpcServiceBinding {
  const watchers = new Set<{ outbox: Outbox; end: () => void; call: ServerWritableStream<unknown, Buffer> }>();
  let unsubscribe: (() => void) | undefined;
  const counters = { sent: 0, dropped: 0 };
  const publish = (event: AgentStateEvent): void => {
    const bytes = Buffer.from(StateEvent.encode(toStateEvent(event)).finish());
    for (const w of watchers) w.outbox.push(bytes);
  };
  const watchState = (call: ServerWritableStream<unknown, Buffer>): void => {
    const release = options.slots ? options.slots.takeSlot('state', call.getPeer()) : () => undefined;
    if (!release) {
      call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `too many subscribers (grpc.maxSubscribers is ${options.slots?.maxSubscribers}): try again later` });
      return;
    }
    let overflowed = false;
    const watcher = {
      call,
      outbox: new Outbox(call, {
        capacity: options.queueSize, capacityBytes: options.queueBytes, counters,
        observer: {
          dropped: () => {
            if (overflowed) return;
            overflowed = true;
            options.logger?.warn('StateAgent watcher too slow: stream ended', { peer: call.getPeer(), queueSize: options.queueSize, queueBytes: options.queueBytes });
            setImmediate(() => call.emit('error', { code: status.RESOURCE_EXHAUSTED, details: `state watcher fell more than ${options.queueSize} events or ${options.queueBytes ?? 'unbounded'} bytes behind; call GetState and watch again` }));
          },
        },
      }),
      end: () => {
        if (!watchers.delete(watcher)) return;
        release();
        watcher.outbox.close();
        if (watchers.size === 0) { unsubscribe?.(); unsubscribe = undefined; }
      },
    };
    watchers.add(watcher);
    unsubscribe ??= provider.subscribe(publish);
    for (const ev of ['cancelled', 'close', 'finish', 'error'] as const) call.on(ev, watcher.end);
    // Headers now, not with the first event: a client can tell the watch is in place.
    call.sendMetadata(new Metadata());
  };
  const getState = (call: ServerWritableStream<unknown, StateEvents>): void => {
    call.write({ StateEvents: provider.snapshot().map(toStateEvent) });
    call.end();
  };
  const implementation: UntypedServiceImplementation = { watchState, getState };
  return {
    name: 'state_agent.StateAgent', definition: stateAgentDefinition, implementation, changesPolicy: false,
    shutdown: () => {
      for (const w of [...watchers]) {
        w.end();
        w.call.end();
      }
    },
  };
}
