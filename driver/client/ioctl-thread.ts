/**
 * Worker thread that makes the long IOCTLs (a 100k-rule APPLY, the pages of a full
 * read-back), so the main thread's event loop never waits on the driver. The main thread
 * owns the device handle (opens, reopens and closes it); this thread only calls
 * DeviceIoControl with it and reads GetLastError right after, on this same thread, as
 * Win32 requires (the binding's deviceIoControl does both).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { loadBinding } from '../win32/binding.js';
import type { IoctlRecycle, IoctlReply, IoctlRequest, IoctlThreadData } from './ioctl-protocol.js';

/** Spare output buffers kept (the agent reads 100k rules back in about nine 2 MiB pages). */
const MAX_SPARE = 16;

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('ioctl-thread must run in a worker thread');
  const binding = loadBinding((workerData as IoctlThreadData).spec);
  // Output buffers handed back by the main thread, reused for outputs of the same size.
  const spare: ArrayBuffer[] = [];
  const outputOf = (bytes: number): Uint8Array | null => {
    if (bytes === 0) return null;
    const at = spare.findIndex((b) => b.byteLength === bytes);
    return at < 0 ? new Uint8Array(bytes) : new Uint8Array(spare.splice(at, 1)[0]!);
  };
  port.on('message', (request: IoctlRequest | IoctlRecycle) => {
    if ('recycle' in request) {
      spare.push(request.recycle);
      if (spare.length > MAX_SPARE) spare.shift();
      return;
    }
    const output = outputOf(request.outputBytes);
    const start = performance.now();
    const outcome = binding.deviceIoControl(request.handle, request.code, request.input, output);
    const seconds = (performance.now() - start) / 1000;
    const buffer = output ? (output.buffer as ArrayBuffer) : null;
    port.postMessage({ id: request.id, outcome, output: buffer, seconds } satisfies IoctlReply, buffer ? [buffer] : []);
  });
}

main();
