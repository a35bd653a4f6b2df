/**
 * Worker thread that owns the blocking FilterGetMessage loop, so neither the main thread
 * nor the libuv threadpool ever waits on the port. The main thread connects, cancels
 * and closes the port handle; this thread only reads with it, straight into the shared
 * ring's next free slot (see port-protocol.ts), and wakes the main thread only when it
 * is waiting. Flow control: it reads only while a slot is free.
 */
import { writeFileSync } from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';
import { EVENT_BATCH, FILTER_MESSAGE_HEADER } from '../abi/layout.js';
import { loadBinding, type Handle } from '../win32/binding.js';
import {
  CONTROL_ARMED, CONTROL_FILLED, CONTROL_STOP, PORT_READER_THREAD_NAME, type PortReaderCommand, type PortReaderData, type PortReaderMessage,
} from './port-protocol.js';

const TOTAL_SIZE_AT = FILTER_MESSAGE_HEADER.size + EVENT_BATCH.fields.TotalSize;

function messageLength(bytes: Uint8Array): number {
  if (bytes.byteLength < TOTAL_SIZE_AT + 4) return bytes.byteLength;
  const total = FILTER_MESSAGE_HEADER.size + new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(TOTAL_SIZE_AT, true);
  return Math.min(Math.max(total, FILTER_MESSAGE_HEADER.size), bytes.byteLength);
}

/**
 * The OS thread's name, where the OS lets a thread name itself through a file (Linux:
 * /proc/thread-self/comm), so that per-thread tools (top -H, bench:events' CPU table)
 * tell this thread from the main thread and V8's; elsewhere the thread stays unnamed.
 */
function nameThread(): void {
  try {
    writeFileSync('/proc/thread-self/comm', PORT_READER_THREAD_NAME);
  } catch { /* no /proc (Windows): the name is only a diagnostic */ }
}

function main(): void {
  const port = parentPort;
  if (!port) throw new Error('port-reader must run in a worker thread');
  nameThread();
  const data = workerData as PortReaderData;
  const control = new Int32Array(data.control);
  const lengths = new Int32Array(data.lengths);
  const slots = Array.from({ length: data.slots }, (_, i) => new Uint8Array(data.ring, i * data.bufferBytes, data.bufferBytes));
  const binding = loadBinding(data.spec);
  let next = 0; // the slot the next message goes to (the main thread takes them in the same order)

  // Blocks (Atomics.wait) until a slot is free; false once the main thread says stop.
  const freeSlot = (): boolean => {
    while (Atomics.load(control, CONTROL_STOP) === 0) {
      const filled = Atomics.load(control, CONTROL_FILLED);
      if (filled < slots.length) return true;
      Atomics.wait(control, CONTROL_FILLED, filled, 1000);
    }
    return false;
  };

  const readLoop = (handle: Handle): void => {
    let hresult = 0;
    while (freeSlot()) {
      const slot = slots[next]!;
      hresult = binding.getMessage(handle, slot);
      if (hresult !== 0) break;
      lengths[next] = messageLength(slot);
      next = (next + 1) % slots.length;
      Atomics.add(control, CONTROL_FILLED, 1);
      if (Atomics.compareExchange(control, CONTROL_ARMED, 1, 0) === 1) port.postMessage({ type: 'ready' } satisfies PortReaderMessage);
    }
    const stopped = Atomics.load(control, CONTROL_STOP) !== 0;
    port.postMessage({ type: 'ended', hresult, stopped } satisfies PortReaderMessage);
  };
  port.on('message', (command: PortReaderCommand) => readLoop(command.handle));
}

main();
