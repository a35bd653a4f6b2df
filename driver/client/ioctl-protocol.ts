/** Messages between the device channel and its IOCTL thread (./ioctl-thread.ts). */
import type { BindingSpec, Handle, IoctlOutcome } from '../win32/binding.js';

export interface IoctlThreadData {
  spec: BindingSpec;
}

export interface IoctlRequest {
  id: number;
  handle: Handle;
  code: number;
  input: Uint8Array | null;
  /** Size of the output buffer the thread allocates (0: none). */
  outputBytes: number;
}

/**
 * An output buffer handed back (transferred) once its bytes are no longer read: the
 * thread reuses it for the next output of that size. A full read-back's pages are
 * megabytes each; made anew for every resync they piled up faster than the garbage
 * collector freed them.
 */
export interface IoctlRecycle {
  recycle: ArrayBuffer;
}

export interface IoctlReply {
  id: number;
  /** Read on the IOCTL thread right after DeviceIoControl: the last error belongs to that thread. */
  outcome: IoctlOutcome;
  /** The output buffer (transferred), when one was asked for. */
  output: ArrayBuffer | null;
  seconds: number;
}
