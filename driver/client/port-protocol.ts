/** Messages and shared control words between the event stream and its port-reader worker. */
import type { BindingSpec, Handle } from '../win32/binding.js';

export interface PortReaderData {
  spec: BindingSpec;
  bufferBytes: number;
  /** Int32Array over a SharedArrayBuffer: [STOP, CREDITS]. */
  control: SharedArrayBuffer;
}
export type PortReaderCommand = { type: 'read'; handle: Handle };
export type PortReaderMessage = { type: 'message'; buffer: ArrayBuffer } | { type: 'ended'; hresult: number; stopped: boolean };
export const CONTROL_STOP = 0;
export const CONTROL_CREDITS = 1;

