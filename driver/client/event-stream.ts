/**
 * The event port as an async iterator of HostEvent batches (host-event.ts: the Windows ABI
 * stops here). A worker thread blocks in
 * FilterGetMessage (see port-reader.ts) and reads into a shared ring of slots; this side
 * connects the port, decodes every message waiting in the ring when its consumer asks
 * (consecutive messages as one batch), reconnects with backoff after the port is lost (driver reload,
 * dropped connection), reports drops and connection changes to the observer, and on
 * close cancels the blocked read (CancelIoEx), closes the handle and joins the worker.
 */
import { Worker } from 'node:worker_threads';
import { decodeEventMessage } from '../abi/codec.js';
import { LIMITS } from '../abi/types.js';
import type { Handle, Win32Binding } from '../win32/binding.js';
import { workerModule } from '../package-files/index.js';
import { decodeOrThrow } from './decode.js';
import { DriverError, errorFromHresult, NotElevatedError, PortConnectionLimitError } from './errors.js';
import type { HostEventBatch, HostEventConverter } from './host-event.js';
import {
  CONTROL_ARMED, CONTROL_FILLED, CONTROL_STOP, CONTROL_WORDS, type PortReaderData, type PortReaderMessage,
} from './port-protocol.js';
import { realTimers, type DriverObserver, type Timers } from './types.js';

export interface EventStreamSettings {
  /** Port messages read ahead of the consumer: slots of the shared ring (each LIMITS.maxMessageBytes). */
  readAheadMessages: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** How long close() keeps cancelling a blocked read before giving up on the worker. */
  stopTimeoutMs: number;
  /** NT→DOS conversions of process images kept (a bounded cache). */
  pathCacheSize: number;
}

export const DEFAULT_EVENT_STREAM: EventStreamSettings = {
  readAheadMessages: 64, reconnectInitialMs: 50, reconnectMaxMs: 5000, stopTimeoutMs: 5000, pathCacheSize: 8192,
};

/** The stream's collaborators. */
export interface EventStreamDeps {
  observer: DriverObserver;
  /** DriverEvent → HostEvent (the client's, so that a new drive map reaches it). */
  host: HostEventConverter;
  /** Reconnect backoff runs on these (default: the process's timers); stopping waits in real time. */
  timers?: Timers;
}

const CANCEL_RETRY_MS = 10;
/**
 * Port messages decoded in one go (up to ~250 events each): what is filled beyond waits
 * for the next next(), so that one decode stays a few milliseconds of main thread.
 */
const MAX_MESSAGES_PER_TAKE = 16;

type Waiter = { resolve: (r: IteratorResult<HostEventBatch>) => void; reject: (e: unknown) => void };

export class PortEventStream implements AsyncIterableIterator<HostEventBatch> {
  private readonly worker: Worker;
  private readonly control = new Int32Array(new SharedArrayBuffer(4 * CONTROL_WORDS));
  private readonly ring: SharedArrayBuffer;
  private readonly lengths: Int32Array;
  /** The slot the next message is taken from (the worker fills them in the same order). */
  private nextSlot = 0;
  /** Decoded batches not yet handed out (more than one only after a gap in the sequence). */
  private readonly queue: HostEventBatch[] = [];
  private waiter: Waiter | undefined;
  private failure: unknown;
  private handle: Handle | null = null;
  private reading = false;
  private stopping = false;
  private finished = false;
  private backoffMs: number;
  private retryTimer: unknown;
  private readonly exited: Promise<void>;
  private closing: Promise<void> | undefined;

  private readonly observer: DriverObserver;
  private readonly host: HostEventConverter;
  private readonly timers: Timers;

  constructor(
    private readonly binding: Win32Binding,
    private readonly portName: string,
    private readonly settings: EventStreamSettings,
    deps: EventStreamDeps,
  ) {
    this.observer = deps.observer;
    this.host = deps.host;
    this.timers = deps.timers ?? realTimers;
    this.backoffMs = settings.reconnectInitialMs;
    const slots = settings.readAheadMessages;
    if (!Number.isInteger(slots) || slots < 1) throw new RangeError(`readAheadMessages must be a positive integer, got ${slots}`);
    this.ring = new SharedArrayBuffer(slots * LIMITS.maxMessageBytes);
    this.lengths = new Int32Array(new SharedArrayBuffer(4 * slots));
    const data: PortReaderData = {
      spec: binding.spec, bufferBytes: LIMITS.maxMessageBytes, slots,
      control: this.control.buffer as SharedArrayBuffer, ring: this.ring, lengths: this.lengths.buffer as SharedArrayBuffer,
    };
    const { url, workerData } = workerModule('driver/client', 'port-reader');
    this.worker = new Worker(url, { workerData: { ...data, ...workerData } });
    this.exited = new Promise((resolve) => this.worker.once('exit', () => {
      this.reading = false; // a thread that is gone reads nothing: close() need not cancel it
      resolve();
    }));
    this.worker.on('message', (m: PortReaderMessage) => this.onWorkerMessage(m));
    this.worker.on('error', (e) => this.fail(new DriverError('the port reader thread failed', { operation: 'FilterGetMessage', cause: e })));
    this.connect();
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<HostEventBatch>> {
    const batch = this.take();
    if (batch) return Promise.resolve({ value: batch, done: false });
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.finished || this.stopping) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      this.arm();
    });
  }

  async return(): Promise<IteratorResult<HostEventBatch>> {
    await this.close();
    return { value: undefined, done: true };
  }

  /** Stops reading: cancels a blocked read, closes the port, joins the worker. Idempotent. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    this.stopping = true;
    if (this.retryTimer !== undefined) this.timers.clearTimeout(this.retryTimer);
    Atomics.store(this.control, CONTROL_STOP, 1);
    Atomics.notify(this.control, CONTROL_FILLED);
    const released = await this.cancelReads();
    this.closePort();
    this.finish();
    if (!released) return; // stuck in the native call: unref'd, cannot be joined
    await this.worker.terminate();
    await this.exited;
  }

  private connect(): void {
    if (this.stopping) return;
    const { hresult, handle } = this.binding.connectPort(this.portName);
    if (hresult !== 0 || handle === null) {
      const error = errorFromHresult('FilterConnectCommunicationPort', hresult);
      if (error instanceof PortConnectionLimitError || error instanceof NotElevatedError) return this.fail(error);
      this.observer.portError?.(error);
      return this.scheduleReconnect();
    }
    this.handle = handle;
    this.reading = true;
    this.backoffMs = this.settings.reconnectInitialMs;
    this.observer.portConnected?.(true);
    this.worker.postMessage({ type: 'read', handle });
  }

  private scheduleReconnect(): void {
    if (this.stopping) return;
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.backoffMs * 2, this.settings.reconnectMaxMs);
    this.retryTimer = this.timers.setTimeout(() => { this.retryTimer = undefined; this.connect(); }, delay);
  }

  private onWorkerMessage(m: PortReaderMessage): void {
    if (m.type === 'ready') return this.onReady();
    this.reading = false;
    if (this.stopping) return;
    this.closePort();
    this.observer.portConnected?.(false);
    this.observer.portError?.(errorFromHresult('FilterGetMessage', m.hresult));
    this.scheduleReconnect();
  }

  /** The worker filled a slot while we were armed: hand the waiting consumer what is there. */
  private onReady(): void {
    const waiter = this.waiter;
    if (!waiter) return; // a wake-up that crossed a take(): nothing waits for it
    const batch = this.take();
    if (!batch) {
      if (this.failure === undefined) this.arm();
      return;
    }
    this.waiter = undefined;
    waiter.resolve({ value: batch, done: false });
  }

  /** Ask the worker for a `ready` message; if a slot was filled meanwhile, take it now. */
  private arm(): void {
    Atomics.store(this.control, CONTROL_ARMED, 1);
    if (Atomics.load(this.control, CONTROL_FILLED) === 0) return;
    // Filled between our check and arming: disarm, unless the worker did (its `ready` is then on its way).
    if (Atomics.compareExchange(this.control, CONTROL_ARMED, 1, 0) === 1) queueMicrotask(() => this.onReady());
  }

  /** The next batch: queued, else every message in the ring decoded and its slots released. */
  private take(): HostEventBatch | undefined {
    if (this.queue.length === 0 && this.failure === undefined) this.decodeRing();
    return this.queue.shift();
  }

  private decodeRing(): void {
    const filled = Math.min(Atomics.load(this.control, CONTROL_FILLED), MAX_MESSAGES_PER_TAKE);
    if (filled === 0) return;
    const slots = this.lengths.length;
    let current: HostEventBatch | undefined;
    try {
      for (let i = 0; i < filled; i++) {
        const slot = this.nextSlot;
        this.nextSlot = (slot + 1) % slots;
        const bytes = new Uint8Array(this.ring, slot * LIMITS.maxMessageBytes, this.lengths[slot]);
        const { dropped, firstSequence, events } = decodeOrThrow('FilterGetMessage', () => decodeEventMessage(bytes));
        if (dropped > 0n) this.observer.eventsDropped?.(dropped);
        // Consecutive messages make one batch; a gap (drops) starts the next, so that
        // every batch still says exactly what was lost before it.
        if (current && dropped === 0n && firstSequence === current.firstSequence + BigInt(current.events.length)) {
          for (const e of events) current.events.push(this.host.convert(e));
        } else {
          current = { dropped, firstSequence, events: events.map((e) => this.host.convert(e)), pathCacheEvictions: 0 };
          this.queue.push(current);
        }
        current.pathCacheEvictions += this.host.takeEvictions();
      }
    } catch (error) {
      this.queue.length = 0;
      this.fail(error);
    } finally {
      Atomics.sub(this.control, CONTROL_FILLED, filled);
      Atomics.notify(this.control, CONTROL_FILLED);
    }
  }

  /** Repeats CancelIoEx until the worker reports its read ended (it may not have blocked yet). */
  private async cancelReads(): Promise<boolean> {
    // Real time, not the injected timers: this waits on a native thread, which a fake clock cannot move.
    const deadline = Date.now() + this.settings.stopTimeoutMs;
    while (this.reading && this.handle !== null && Date.now() < deadline) {
      this.binding.cancelIo(this.handle);
      await new Promise((r) => setTimeout(r, CANCEL_RETRY_MS));
    }
    if (this.reading) this.worker.unref(); // do not keep the process alive for a thread we cannot join
    return !this.reading;
  }

  private closePort(): void {
    if (this.handle === null) return;
    this.binding.closeHandle(this.handle);
    this.handle = null;
  }

  private fail(error: unknown): void {
    if (this.failure !== undefined || this.finished) return;
    this.failure = error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(error);
    void this.close();
  }

  private finish(): void {
    this.finished = true;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.resolve({ value: undefined, done: true });
  }
}
