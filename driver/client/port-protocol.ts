/**
 * What the event stream and its port-reader worker share: a ring of message slots in a
 * SharedArrayBuffer that the worker reads port messages straight into (no copy, no
 * transfer), control words, and the few messages they still post.
 *
 * The worker fills slots in order and counts them in FILLED; the main thread decodes
 * every filled slot at once when its consumer asks, as one batch, and releases them.
 * The worker posts `ready` only when the main thread has ARMED it (it found the ring
 * empty and waits): while the main thread is busy, messages gather in the ring without a
 * message each, so a loaded agent pays per batch, not per port message.
 */
import type { BindingSpec, Handle } from '../win32/binding.js';

export interface PortReaderData {
  spec: BindingSpec;
  /** Bytes of one slot: the largest port message. */
  bufferBytes: number;
  /** Number of slots (the read-ahead). */
  slots: number;
  /** Int32Array over a SharedArrayBuffer: [STOP, FILLED, ARMED]. */
  control: SharedArrayBuffer;
  /** `slots` × `bufferBytes`: the messages. */
  ring: SharedArrayBuffer;
  /** Int32Array[slots]: the length of the message in each slot. */
  lengths: SharedArrayBuffer;
}
export type PortReaderCommand = { type: 'read'; handle: Handle };
export type PortReaderMessage = { type: 'ready' } | { type: 'ended'; hresult: number; stopped: boolean };
export const CONTROL_STOP = 0;
/** Slots holding a message the main thread has not taken yet (the worker waits at `slots`). */
export const CONTROL_FILLED = 1;
/** 1: the main thread waits for a message; the worker that fills a slot clears it and posts `ready`. */
export const CONTROL_ARMED = 2;
export const CONTROL_WORDS = 3;
/** The OS thread name the worker gives itself where it can (Linux), for per-thread tools. */
export const PORT_READER_THREAD_NAME = 'kawin-port';
