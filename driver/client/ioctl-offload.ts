/**
 * The main thread's side of the IOCTL thread: one call at a time in flight per client
 * (IOCTLs of one client are sequential anyway), started on first use, unref'd so an idle
 * agent can exit.
 */
import { Worker } from 'node:worker_threads';
import { workerModule } from '../package-files/index.js';
import type { BindingSpec, Handle, IoctlOutcome } from '../win32/binding.js';
import { DriverError } from './errors.js';
import type { IoctlRecycle, IoctlReply, IoctlRequest, IoctlThreadData } from './ioctl-protocol.js';

interface Pending {
  resolve(reply: IoctlReply): void;
  reject(error: Error): void;
}

export class IoctlThread {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(private readonly spec: BindingSpec) {}

  /**
   * DeviceIoControl on the IOCTL thread; resolves with its outcome and output bytes.
   * `transferInput`: the input's buffer moves to the thread instead of being copied (a
   * 100k-rule APPLY is about 10 MB); the caller must not use it afterwards.
   * `adoptOutput`: the output comes back in the thread's own buffer (as `output`), moved
   * rather than copied into `output`, which then only gives the size.
   */
  call(handle: Handle, code: number, input: Uint8Array | null, output: Uint8Array | null, { transferInput = false, adoptOutput = false } = {}): Promise<{ outcome: IoctlOutcome; seconds: number; output?: Uint8Array }> {
    const worker = this.started();
    const id = this.nextId++;
    return new Promise<IoctlReply>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      const transfer = transferInput && input && input.byteOffset === 0 && input.byteLength === input.buffer.byteLength ? [input.buffer as ArrayBuffer] : [];
      worker.postMessage({ id, handle, code, input, outputBytes: output?.byteLength ?? 0 } satisfies IoctlRequest, transfer);
    }).then(async (reply) => {
      // Adopted: the thread's buffer (moved here, not copied) is the caller's; else copied into `output`.
      const adopted = adoptOutput && reply.output ? new Uint8Array(reply.output) : undefined;
      if (output && reply.output && !adopted) output.set(new Uint8Array(reply.output));
      // Node delivers every queued worker message in one go: without this turn, a caller
      // chaining calls (the pages of a read-back) would keep timers and I/O waiting.
      await new Promise((resolve) => setImmediate(resolve));
      return { outcome: reply.outcome, seconds: reply.seconds, output: adopted };
    });
  }

  /**
   * Starts the thread now, ahead of its first call: a thread takes tens of milliseconds
   * to boot, which a caller about to spend as long preparing a large input can hide.
   */
  start(): void {
    this.started();
  }

  /** An adopted output whose bytes are no longer read: the thread reuses its memory. */
  recycle(output: Uint8Array): void {
    const buffer = output.buffer;
    if (!this.worker || buffer instanceof SharedArrayBuffer || output.byteOffset !== 0) return;
    this.worker.postMessage({ recycle: buffer } satisfies IoctlRecycle, [buffer]);
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
    this.failAll(new DriverError('the client is closed', { operation: 'DeviceIoControl' }));
  }

  private started(): Worker {
    if (this.worker) return this.worker;
    // Through workerModule, so that the compiled build runs dist/ioctl-thread.cjs.
    const { url, workerData } = workerModule('driver/client', 'ioctl-thread');
    const worker = new Worker(url, { workerData: { ...workerData, spec: this.spec } satisfies IoctlThreadData & typeof workerData });
    worker.unref();
    worker.on('message', (reply: IoctlReply) => {
      const p = this.pending.get(reply.id);
      this.pending.delete(reply.id);
      if (this.pending.size === 0) worker.unref();
      p?.resolve(reply);
    });
    const lost = (cause: unknown): void => {
      if (this.worker === worker) this.worker = undefined;
      this.failAll(new DriverError('the IOCTL thread failed', { operation: 'DeviceIoControl', cause }));
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`exit code ${code}`)));
    this.worker = worker;
    return worker;
  }

  private failAll(error: Error): void {
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }
}
