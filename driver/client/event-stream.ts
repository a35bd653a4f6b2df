/**
 * The event port as an async iterator of decoded batches. A worker thread blocks in
 * FilterGetMessage (see port-reader.ts); this side connects the port, decodes what the
 * worker transfers, reconnects with backoff after the port is lost (driver reload,
 * dropped connection), reports drops and connection changes to the observer, and on
 * close cancels the blocked read (CancelIoEx), closes the handle and joins the worker.
 */
import { Worker } from 'node:worker_threads';
import { decodeEventMessage } from '../abi/codec.js';
import { LIMITS, type EventBatch } from '../abi/types.js';
import type { Handle, Win32Binding } from '../win32/binding.js';
import { workerModule } from '../package-files/index.js';
import { decodeOrThrow } from './decode.js';
import { DriverError, errorFromHresult, NotElevatedError, PortConnectionLimitError } from './errors.js';
import { CONTROL_CREDITS, CONTROL_STOP, type PortReaderData, type PortReaderMessage } from './port-protocol.js';
import type { DriverObserver } from './types.js';

export interface EventStreamSettings {
  /** Port messages read ahead of the consumer (each up to LIMITS.maxMessageBytes). */
  readAheadMessages: number;
  reconnectInitialMs: number;
  reconnectMaxMs: number;
  /** How long close() keeps cancelling a blocked read before giving up on the worker. */
  stopTimeoutMs: number;
}

export const DEFAULT_EVENT_STREAM: EventStreamSettings = {
  readAheadMessages: 64, reconnectInitialMs: 50, reconnectMaxMs: 5000, stopTimeoutMs: 5000,
};

const CANCEL_RETRY_MS = 10;

type Waiter = { resolve: (r: IteratorResult<EventBatch>) => void; reject: (e: unknown) => void };

export class PortEventStream implements AsyncIterableIterator<EventBatch> {
  private readonly worker: Worker;
  private readonly control = new Int32Array(new SharedArrayBuffer(8));
  private readonly queue: EventBatch[] = [];
  private waiter: Waiter | undefined;
  private failure: unknown;
  private handle: Handle | null = null;
  private reading = false;
  private stopping = false;
  private finished = false;
  private backoffMs: number;
  private retryTimer: NodeJS.Timeout | undefined;
  private readonly exited: Promise<void>;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly binding: Win32Binding,
    private readonly portName: string,
    private readonly observer: DriverObserver,
    private readonly settings: EventStreamSettings,
  ) {
    this.backoffMs = settings.reconnectInitialMs;
    Atomics.store(this.control, CONTROL_CREDITS, settings.readAheadMessages);
    const data: PortReaderData = { spec: binding.spec, bufferBytes: LIMITS.maxMessageBytes, control: this.control.buffer as SharedArrayBuffer };
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

  next(): Promise<IteratorResult<EventBatch>> {
    const batch = this.queue.shift();
    if (batch) {
      this.grantCredit();
      return Promise.resolve({ value: batch, done: false });
    }
    if (this.failure !== undefined) return Promise.reject(this.failure);
    if (this.finished || this.stopping) return Promise.resolve({ value: undefined, done: true });
    return new Promise((resolve, reject) => { this.waiter = { resolve, reject }; });
  }

  async return(): Promise<IteratorResult<EventBatch>> {
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
    clearTimeout(this.retryTimer);
    Atomics.store(this.control, CONTROL_STOP, 1);
    Atomics.notify(this.control, CONTROL_CREDITS);
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
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private onWorkerMessage(m: PortReaderMessage): void {
    if (m.type === 'message') return this.onBatch(m.buffer);
    this.reading = false;
    if (this.stopping) return;
    this.closePort();
    this.observer.portConnected?.(false);
    this.observer.portError?.(errorFromHresult('FilterGetMessage', m.hresult));
    this.scheduleReconnect();
  }

  private onBatch(buffer: ArrayBuffer): void {
    let batch: EventBatch;
    try {
      const { dropped, firstSequence, events } = decodeOrThrow('FilterGetMessage', () => decodeEventMessage(new Uint8Array(buffer)));
      batch = { dropped, firstSequence, events };
    } catch (error) {
      return this.fail(error);
    }
    if (batch.dropped > 0n) this.observer.eventsDropped?.(batch.dropped);
    const waiter = this.waiter;
    if (!waiter) {
      this.queue.push(batch);
      return;
    }
    this.waiter = undefined;
    this.grantCredit();
    waiter.resolve({ value: batch, done: false });
  }

  private grantCredit(): void {
    Atomics.add(this.control, CONTROL_CREDITS, 1);
    Atomics.notify(this.control, CONTROL_CREDITS);
  }

  /** Repeats CancelIoEx until the worker reports its read ended (it may not have blocked yet). */
  private async cancelReads(): Promise<boolean> {
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
