/**
 * The control device handle and the IOCTL round trip: time every call for the observer,
 * map failures to typed errors, and survive a driver reload (a stale handle is reopened
 * once; read-only calls are retried, writes surface the error so the reconciler re-reads).
 * Short IOCTLs run on the calling thread (`ioctl`); long ones (`ioctlOffThread`: a large
 * APPLY, read-back pages) on the IOCTL thread, with the same semantics. The agent, whose
 * event loop must not wait on the driver, sends every IOCTL there once the thread runs
 * (`IoctlThreadUse` 'all-once-started').
 */
import { IOCTL, WIN32, type IoctlName } from '../abi/types.js';
import type { Handle, IoctlOutcome, Win32Binding } from '../win32/binding.js';
import { DriverError, errorFromWin32, StaleHandleError } from './errors.js';
import type { DriverObserver } from './types.js';
import { IoctlThread } from './ioctl-offload.js';

export interface IoctlCall {
  op: IoctlName;
  input: Uint8Array | null;
  output: Uint8Array | null;
  /** Safe to repeat after reopening a stale handle (no effect on the table). */
  readOnly: boolean;
  /** Win32 errors the caller handles itself (returned, not thrown, not reported as failures). */
  expected?: readonly number[];
  /**
   * Off the thread, the output is handed back as the outcome's `output` (the IOCTL
   * thread's buffer, moved) instead of copied into `output`, which then only gives the
   * size: a read-back page is kept as it arrives, with no copy.
   */
  adoptOutput?: boolean;
}

/** An outcome with the adopted output (IoctlCall.adoptOutput, off the thread). */
export type AdoptedOutcome = IoctlOutcome & { output?: Uint8Array };

/**
 * Which IOCTLs made through `call` go to the IOCTL thread:
 * - 'large': only while a large one is in flight there (a CLI command starts no thread
 *   for its few short calls);
 * - 'all-once-started' (the agent): every one, once the thread runs — it starts for the
 *   first large APPLY or read-back, so an agent with a small table keeps short calls on
 *   its own thread and starts no thread (~9 MB); one with a large table never waits on
 *   a slow driver, or on the emulator's daemon under load (3–10 ms per short call here).
 */
export type IoctlThreadUse = 'large' | 'all-once-started';

export class DeviceChannel {
  private handle: Handle | null;
  private thread: IoctlThread | undefined;
  /** IOCTLs queued on the IOCTL thread: while any is, calls go there too, behind it. */
  private offThread = 0;

  private constructor(
    private readonly binding: Win32Binding,
    private readonly name: string,
    private readonly observer: DriverObserver,
    handle: Handle,
    private readonly threadUse: IoctlThreadUse,
  ) {
    this.handle = handle;
  }

  static open(binding: Win32Binding, name: string, observer: DriverObserver, threadUse: IoctlThreadUse = 'large'): DeviceChannel {
    return new DeviceChannel(binding, name, observer, openHandle(binding, name), threadUse);
  }

  /** One IOCTL; throws the typed error unless the error is in `call.expected`. */
  ioctl(call: IoctlCall): IoctlOutcome {
    const outcome = this.timed(call);
    if (outcome.error !== WIN32.invalidHandle) return outcome;
    this.reopen(call.op);
    // A write is not repeated: the table it was computed against may be gone.
    const retried = call.readOnly ? this.timed(call) : outcome;
    if (retried.error !== WIN32.invalidHandle) return retried;
    throw this.report(call.op, 0, new StaleHandleError('the driver was reloaded; re-read the table and retry', {
      operation: call.op, win32Error: WIN32.invalidHandle,
    }));
  }

  /**
   * `ioctl` on the calling thread, unless a call is in flight on the IOCTL thread: then
   * this one queues behind it there (the device serializes calls on a handle, so a call
   * made here would hold the event loop until the long one ends). With `threadUse`
   * 'all-once-started', on the IOCTL thread whenever it runs.
   */
  async call(call: IoctlCall): Promise<IoctlOutcome> {
    const there = this.offThread > 0 || (this.threadUse === 'all-once-started' && this.thread !== undefined);
    return there ? this.ioctlOffThread(call) : this.ioctl(call);
  }

  /** The same as `ioctl`, with the call (and its GetLastError) made on the IOCTL thread. */
  async ioctlOffThread(call: IoctlCall): Promise<AdoptedOutcome> {
    this.offThread++;
    try {
      return await this.offThreadOnce(call);
    } finally {
      this.offThread--;
    }
  }

  /**
   * Starts the IOCTL thread before a call that will need it (a large APPLY, while its
   * input is encoded), so that its boot does not delay the call. With 'all-once-started',
   * every call goes there from now on, as once it has served a call.
   */
  startThread(): void {
    if (this.handle === null) return;
    (this.thread ??= new IoctlThread(this.binding.spec)).start();
  }

  private async offThreadOnce(call: IoctlCall): Promise<AdoptedOutcome> {
    const outcome = await this.timedOffThread(call);
    if (outcome.error !== WIN32.invalidHandle) return outcome;
    this.reopen(call.op);
    const retried = call.readOnly ? await this.timedOffThread(call) : outcome;
    if (retried.error !== WIN32.invalidHandle) return retried;
    throw this.report(call.op, 0, new StaleHandleError('the driver was reloaded; re-read the table and retry', {
      operation: call.op, win32Error: WIN32.invalidHandle,
    }));
  }

  /** An output adopted from the IOCTL thread (IoctlCall.adoptOutput) that is no longer read: its memory is reused. */
  recycle(output: Uint8Array): void {
    this.thread?.recycle(output);
  }

  close(): void {
    if (this.handle !== null) this.binding.closeHandle(this.handle);
    this.handle = null;
    void this.thread?.close();
    this.thread = undefined;
  }

  private timed(call: IoctlCall): IoctlOutcome {
    const handle = this.open(call);
    const start = performance.now();
    const outcome = this.binding.deviceIoControl(handle, IOCTL[call.op], call.input, call.output);
    return this.settle(call, outcome, (performance.now() - start) / 1000);
  }

  private async timedOffThread(call: IoctlCall): Promise<AdoptedOutcome> {
    const handle = this.open(call);
    this.thread ??= new IoctlThread(this.binding.spec);
    // A write is never repeated (see ioctl), so its input can move to the thread uncopied.
    const { outcome, seconds, output } = await this.thread.call(handle, IOCTL[call.op], call.input, call.output, { transferInput: !call.readOnly, adoptOutput: call.adoptOutput });
    const settled = this.settle(call, outcome, seconds);
    return output ? { ...settled, output } : settled;
  }

  private open(call: IoctlCall): Handle {
    if (this.handle === null) throw new DriverError('the client is closed', { operation: call.op });
    return this.handle;
  }

  private settle(call: IoctlCall, outcome: IoctlOutcome, seconds: number): IoctlOutcome {
    if (outcome.ok || call.expected?.includes(outcome.error)) {
      this.observer.ioctl?.(call.op, seconds);
      return outcome;
    }
    if (outcome.error === WIN32.invalidHandle) return outcome; // reported by ioctl() after the reopen decision
    throw this.report(call.op, seconds, errorFromWin32(call.op, outcome.error));
  }

  private report(op: string, seconds: number, error: DriverError): DriverError {
    this.observer.ioctl?.(op, seconds, error);
    return error;
  }

  private reopen(op: string): void {
    if (this.handle !== null) this.binding.closeHandle(this.handle);
    this.handle = null;
    try {
      this.handle = openHandle(this.binding, this.name);
    } catch (error) {
      throw this.report(op, 0, error as DriverError);
    }
  }
}

function openHandle(binding: Win32Binding, name: string): Handle {
  const { handle, error } = binding.openDevice(name);
  if (handle !== null) return handle;
  throw errorFromWin32('CreateFileW', error);
}
