/**
 * Where framed messages (frames.ts) go: a grpc-js server stream. On grpc-js's own server
 * call with no interceptors (kawin's case: checked at run time, and by frame-sink.test.ts
 * against the installed grpc-js), the frames are written straight to the call's HTTP/2
 * stream after its response headers — one stream write for a whole batch; backpressure
 * is that stream's (`write` returns false, then 'drain'). Anything else gets each
 * message through the call's public `write`, as grpc-js would send it.
 *
 * What the direct path leaves out of grpc-js's per-message path: serialization (the
 * messages are encoded already), the max-send-message-size check (alerts are a few
 * hundred bytes; kawin's limit is megabytes) and channelz's messages-sent counter.
 */
import { messagesOf } from './frames.js';

/** The part of a grpc-js ServerWritableStream the fan-out uses. */
export interface WritableCall {
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
}

export interface FrameSink {
  /** Writes framed messages in order; false: stop until the listener given to `onDrain` runs. */
  write(frames: Buffer): boolean;
  onDrain(listener: () => void): void;
  offDrain(listener: () => void): void;
  /** True when batches go to the HTTP/2 stream in one write (not message by message). */
  readonly direct: boolean;
}

/** The HTTP/2 stream under grpc-js's BaseServerInterceptingCall (internal, checked structurally). */
interface Http2Like {
  write(chunk: Buffer): boolean;
  once(event: 'drain', listener: () => void): unknown;
  removeListener(event: 'drain', listener: () => void): unknown;
  readonly destroyed: boolean;
  readonly closed: boolean;
}
interface BaseCallLike {
  stream: Http2Like;
  maybeSendMetadata(): void;
}

function baseCallOf(call: WritableCall): BaseCallLike | undefined {
  const inner = (call as { call?: unknown }).call as Partial<BaseCallLike> | undefined;
  const stream = inner?.stream as Partial<Http2Like> | undefined;
  if (typeof inner?.maybeSendMetadata !== 'function' || typeof stream?.write !== 'function' || typeof stream.once !== 'function') return undefined;
  if (!('destroyed' in stream) || !('closed' in stream)) return undefined;
  return inner as BaseCallLike;
}

export function frameSink(call: WritableCall): FrameSink {
  const base = baseCallOf(call);
  if (!base) {
    return {
      direct: false,
      write(frames) {
        let ok = true;
        for (const m of messagesOf(frames)) ok = call.write(m);
        return ok;
      },
      onDrain: (l) => void call.once('drain', l),
      offDrain: (l) => void call.removeListener('drain', l),
    };
  }
  const h2 = base.stream;
  return {
    direct: true,
    write(frames) {
      // A closed stream takes nothing: grpc-js reports the call cancelled and the subscription ends.
      if (h2.destroyed || h2.closed) return true;
      base.maybeSendMetadata();
      return h2.write(frames);
    },
    onDrain: (l) => void h2.once('drain', l),
    offDrain: (l) => void h2.removeListener('drain', l),
  };
}
