/**
 * Worker thread that owns the blocking FilterGetMessage loop, so neither the main thread
 * nor the libuv threadpool ever waits on the port. The main thread connects, cancels
 * and closes the port handle; this thread only reads with it and transfers each raw
 * message (no decoding here: a transferred ArrayBuffer is cheaper than cloning objects).
 * Flow control: it reads only while the main thread has granted credits.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { EVENT_BATCH, FILTER_MESSAGE_HEADER } from '../abi/layout.js';
import { loadBinding, type Handle } from '../win32/binding.js';
import { CONTROL_CREDITS, CONTROL_STOP, type PortReaderCommand, type PortReaderData, type PortReaderMessage } from './port-protocol.js';

const TOTAL_SIZE_AT = FILTER_MESSAGE_HEADER.size + EVENT_BATCH.fields.TotalSize;

function messageLength(bytes: Uint8Array): number {
  if (bytes.byteLength < TOTAL_SIZE_AT + 4) return bytes.byteLength;
  const total = FILTER_MESSAGE_HEADER.size + new DataView(bytes.buffer).getUint32(TOTAL_SIZE_AT, true);
  return Math.min(Math.max(total, FILTER_MESSAGE_HEADER.size), bytes.byteLength);
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('port-reader must run in a worker thread');
  const data = workerData as PortReaderData;
  const control = new Int32Array(data.control);
  const binding = loadBinding(data.spec);

  // Blocks (Atomics.wait) until a credit is free; false once the main thread says stop.
  const takeCredit = (): boolean => {
    while (Atomics.load(control, CONTROL_STOP) === 0) {
      const credits = Atomics.load(control, CONTROL_CREDITS);
      if (credits > 0) return true;
      Atomics.wait(control, CONTROL_CREDITS, credits, 1000);
    }
    return false;
  };

  const readLoop = (handle: Handle): void => {
    let hresult = 0;
    while (takeCredit()) {
      const buffer = new Uint8Array(data.bufferBytes);
      hresult = binding.getMessage(handle, buffer);
      if (hresult !== 0) break;
      const message = buffer.buffer.slice(0, messageLength(buffer));
      Atomics.sub(control, CONTROL_CREDITS, 1);
      port.postMessage({ type: 'message', buffer: message } satisfies PortReaderMessage, [message]);
    }
    const stopped = Atomics.load(control, CONTROL_STOP) !== 0;
    port.postMessage({ type: 'ended', hresult, stopped } satisfies PortReaderMessage);
  };
  port.on('message', (command: PortReaderCommand) => readLoop(command.handle));
}

main();
