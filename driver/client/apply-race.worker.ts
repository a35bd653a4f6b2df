// Test helper thread (apply-race.test.ts): opens its own DriverClient and, for each
// round, waits for the shared start signal, applies its transaction with that round's
// expected generation and reports what happened.
import { parentPort, workerData } from 'node:worker_threads';
import { loadBinding } from '../win32/index.js';
import { DriverClient } from './client.js';
import type { ApplyTransaction } from './types.js';

interface RaceData { library: string; device: string; port: string; control: SharedArrayBuffer; tx: ApplyTransaction; generations: bigint[] }
const GO = 0;
const READY = 1;

const data = workerData as RaceData;
const client = await DriverClient.open({ binding: loadBinding({ library: data.library }), device: data.device, port: data.port });
const control = new Int32Array(data.control);
for (let round = 0; round < data.generations.length; round++) {
  Atomics.add(control, READY, 1);
  while (Atomics.load(control, GO) <= round) Atomics.wait(control, GO, round);
  try {
    const result = await client.apply({ ...data.tx, expectedGeneration: data.generations[round]! });
    parentPort?.postMessage({ ok: true, generation: result.generation });
  } catch (error) {
    parentPort?.postMessage({ ok: false, error: (error as Error).name });
  }
}
await client.close();
