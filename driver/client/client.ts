/**
 * DriverClient: the typed Driver over the koffi binding. Short IOCTLs are synchronous
 * calls on the calling thread (they complete in the driver without waiting for anything);
 * a large APPLY and the pages of a large read-back run on the IOCTL thread
 * (ioctl-thread.ts). Either way the Win32 last-error is read on the thread that made the
 * call. The event port is read by a worker thread (event-stream.ts).
 */
import {
  applyRequestSize, decodeApplyResult, decodeState, encodeAddRules, encodeApplyRequest, encodeApplyRequestInSteps, encodeGetState,
  encodeRemoveRules, encodeSetConfig, ruleSize, type DriverPathParts,
} from '../abi/codec.js';
import { APPLY_RESULT, HEADER } from '../abi/layout.js';
import {
  Flavor, LIMITS, WINDOWS_DEVICE_NAME, WINDOWS_PORT_NAME,
  type ApplyResult, type DriverConfig, type DriverRule, type DriverState, type IoctlName,
} from '../abi/types.js';
import { pathTranslatorFor, queryDriveMap, sameDriveMap, type DriveMap } from './paths.js';
import type { Win32Binding } from '../win32/binding.js';
import { decodeOrThrow } from './decode.js';
import { DeviceChannel, type IoctlThreadUse } from './device.js';
import { DriverError, RequestTooLargeError } from './errors.js';
import { DEFAULT_EVENT_STREAM, PortEventStream, type EventStreamSettings } from './event-stream.js';
import { HostEventConverter, type HostEventBatch } from './host-event.js';
import { DEFAULT_LISTING, listAllRules, type ListingOptions, type ListingStats } from './listing.js';
import type { ApplyTransaction, Driver, DriverObserver, EventStreamOptions, PathTranslator, RuleTable, Timers } from './types.js';

export interface DriverClientOptions {
  binding: Win32Binding;
  /** Device name: `\\.\Karmor` on Windows (default), the device socket path on the emulator. */
  device?: string;
  /** Port name: `\KarmorPort` on Windows (default), the port socket path on the emulator. */
  port?: string;
  observer?: DriverObserver;
  listing?: Partial<ListingOptions>;
  events?: Partial<EventStreamSettings>;
  /** The event stream's timers (reconnect backoff, stop deadline); default the process's. */
  timers?: Timers;
  /** Which IOCTLs go to the IOCTL thread (device.ts): 'large' by default, 'all-once-started' in the agent. */
  ioctlThread?: IoctlThreadUse;
}

/** From this many rules, an APPLY or a read-back runs on the IOCTL thread (below, a round trip costs more than it saves). */
export const OFF_THREAD_RULES = 2048;
/** Rules encoded between two yields to the event loop (a few ms of work). */
const ENCODE_STEP_RULES = 1024;
const STATE_BUFFER_BYTES = 256; // KAWIN_STATE is self-sized; room for a later, larger version

export class DriverClient implements Driver {
  /** Counters of the last listRules() call (pages, restarts, buffer growths). */
  readonly lastListing: ListingStats = { pages: 0, restarts: 0, bufferGrowths: 0 };
  private readonly streams = new Set<PortEventStream>();
  /** The open streams' NT→DOS conversions, reset when the drive map changes. */
  private readonly converters = new Set<HostEventConverter>();
  private closed = false;
  /** Follows the drive map: replaced when refreshPaths() finds a volume mounted or removed. */
  private translator: PathTranslator;
  /** Rules in the last table read back: a large one is read from its first page on the IOCTL thread. */
  private lastTableRules = 0;

  private constructor(
    private readonly options: DriverClientOptions,
    private readonly device: DeviceChannel,
    readonly flavor: Flavor,
    private drives: DriveMap,
  ) {
    this.translator = pathTranslatorFor(flavor, drives);
  }

  get paths(): PathTranslator { return this.translator; }

  /** Opens the device (DriverNotLoadedError when absent), reads its flavour and drive map. */
  static async open(options: DriverClientOptions): Promise<DriverClient> {
    const observer = options.observer ?? {};
    const device = DeviceChannel.open(options.binding, options.device ?? WINDOWS_DEVICE_NAME, observer, options.ioctlThread);
    try {
      const state = readState(device);
      const client = new DriverClient({ ...options, observer }, device, state.flavor, driveMapOf(options.binding, state.flavor));
      // A table already large (the driver outlived the last agent) is listed off the main thread from the first page.
      client.lastTableRules = state.ruleCount;
      return client;
    } catch (error) {
      device.close();
      throw error;
    }
  }

  refreshPaths(): boolean {
    const drives = driveMapOf(this.options.binding, this.flavor);
    if (sameDriveMap(drives, this.drives)) return false;
    this.drives = drives;
    this.translator = pathTranslatorFor(this.flavor, drives);
    for (const c of this.converters) c.paths.reset();
    return true;
  }

  async getState(): Promise<DriverState> {
    const output = new Uint8Array(STATE_BUFFER_BYTES);
    const { bytesReturned } = await this.device.call({ op: 'GET_STATE', input: encodeGetState(), output, readOnly: true });
    return decodeOrThrow('GET_STATE', () => decodeState(output, bytesReturned));
  }

  async listRules(): Promise<RuleTable> {
    Object.assign(this.lastListing, { pages: 0, restarts: 0, bufferGrowths: 0 });
    const table = await listAllRules(this.device, { ...DEFAULT_LISTING, ...this.options.listing }, this.lastListing, OFF_THREAD_RULES, this.lastTableRules >= OFF_THREAD_RULES);
    this.lastTableRules = table.records.length;
    return table;
  }

  /**
   * One atomic APPLY, DOS paths written as the driver's NT paths. A large one is encoded
   * in steps (yielding to the event loop between them) and sent from the IOCTL thread,
   * which also reads its error: the main thread is never held for long, and the driver
   * still sees one request.
   */
  async apply(tx: ApplyTransaction): Promise<ApplyResult> {
    const translator = this.translator;
    const parts = (path: string): DriverPathParts => translator.toDriverParts(path);
    if (tx.add.length < OFF_THREAD_RULES) {
      checkSize('APPLY', applyRequestSize(tx.remove.length, tx.add, parts));
      return this.write('APPLY', encodeApplyRequest(tx.expectedGeneration, tx.remove, tx.add, parts));
    }
    // The thread boots while the request is encoded, not after.
    this.device.startThread();
    const steps = encodeApplyRequestInSteps(tx.expectedGeneration, tx.remove, tx.add, ENCODE_STEP_RULES, parts);
    let step = steps.next();
    while (!step.done) {
      await new Promise((resolve) => setImmediate(resolve));
      step = steps.next();
    }
    const input = step.value;
    checkSize('APPLY', input.byteLength);
    const output = new Uint8Array(APPLY_RESULT.size);
    const { bytesReturned } = await this.device.ioctlOffThread({ op: 'APPLY', input, output, readOnly: false });
    return decodeOrThrow('APPLY', () => decodeApplyResult(output, bytesReturned));
  }

  /**
   * ADD_RULES and REMOVE_RULES, for ABI conformance tests and out-of-band writers in tests;
   * not part of `Driver`: the agent writes only through one atomic `apply`.
   */
  async addRules(rules: readonly DriverRule[]): Promise<ApplyResult> {
    checkSize('ADD_RULES', rules.reduce((n, r) => n + ruleSize(r), HEADER.size));
    return this.write('ADD_RULES', encodeAddRules(rules));
  }

  async removeRules(ids: readonly bigint[]): Promise<ApplyResult> {
    checkSize('REMOVE_RULES', HEADER.size + ids.length * 8);
    return this.write('REMOVE_RULES', encodeRemoveRules(ids));
  }

  async setConfig(config: DriverConfig): Promise<void> {
    await this.device.call({ op: 'SET_CONFIG', input: encodeSetConfig(config), output: null, readOnly: false });
  }

  events(options: EventStreamOptions = {}): AsyncIterable<HostEventBatch> {
    if (this.closed) throw new DriverError('the client is closed', { operation: 'events' });
    const settings = { ...DEFAULT_EVENT_STREAM, ...this.options.events };
    const host = new HostEventConverter(() => this.translator, settings.pathCacheSize);
    const stream = new PortEventStream(this.options.binding, this.options.port ?? WINDOWS_PORT_NAME, settings,
      { observer: this.options.observer ?? {}, host, timers: this.options.timers });
    this.converters.add(host);
    this.streams.add(stream);
    const signal = options.signal;
    const onAbort = (): void => void stream.close();
    if (signal?.aborted) onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    const streams = this.streams;
    const converters = this.converters;
    return {
      async *[Symbol.asyncIterator]() {
        try {
          yield* stream;
        } finally {
          signal?.removeEventListener('abort', onAbort);
          await stream.close();
          streams.delete(stream);
          converters.delete(host);
        }
      },
    };
  }

  /** Stops every event stream (releasing blocked reads) and closes the device. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.streams].map((s) => s.close()));
    this.streams.clear();
    this.converters.clear();
    this.device.close();
  }

  private async write(op: IoctlName, input: Uint8Array): Promise<ApplyResult> {
    const output = new Uint8Array(APPLY_RESULT.size);
    const { bytesReturned } = await this.device.call({ op, input, output, readOnly: false });
    return decodeOrThrow(op, () => decodeApplyResult(output, bytesReturned));
  }
}

function driveMapOf(binding: Win32Binding, flavor: Flavor): DriveMap {
  return flavor === Flavor.Windows ? queryDriveMap(binding) : new Map<string, string>();
}

function readState(device: DeviceChannel): DriverState {
  const output = new Uint8Array(STATE_BUFFER_BYTES);
  const { bytesReturned } = device.ioctl({ op: 'GET_STATE', input: encodeGetState(), output, readOnly: true });
  return decodeOrThrow('GET_STATE', () => decodeState(output, bytesReturned));
}

function checkSize(op: IoctlName, bytes: number): void {
  if (bytes > LIMITS.maxIoctlInput) {
    throw new RequestTooLargeError(
      `the request is ${bytes} bytes, above the driver's limit of ${LIMITS.maxIoctlInput} (KAWIN_MAX_IOCTL_INPUT); an APPLY cannot be split without losing atomicity`,
      { operation: op },
    );
  }
}
