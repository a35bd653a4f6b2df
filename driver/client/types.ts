/**
 * The typed face of the driver that everything above the driver boundary uses. One
 * implementation (DriverClient in ./client.ts) speaks to the real minifilter or the
 * emulator through the same koffi binding; errors are the typed ones of ./errors.ts.
 */
import type { ApplyResult, DriverConfig, DriverRule, DriverState } from '../abi/types.js';
import type { RuleRecords } from '../abi/rule-records.js';
import type { DriverPathParts } from '../abi/rules-codec.js';

export type { DriverPathParts };
import type { HostEventBatch } from './host-event.js';

export interface ApplyTransaction {
  /** The generation the caller read; a different current generation is a conflict. */
  expectedGeneration: bigint;
  remove: readonly bigint[];
  add: readonly DriverRule[];
}

export interface RuleTable {
  /** Generation of the table the listing is a consistent snapshot of. */
  readonly generation: bigint;
  /** The listed records, in the driver's order (ascending ids), decoded on demand. */
  readonly records: RuleRecords;
  /** Every record decoded (on first use). */
  readonly rules: DriverRule[];
  /**
   * Done with `records`: their memory (megabytes at 100k rules) is reused by the next
   * listing, and reading them afterwards throws. Optional to call; a full read-back does.
   */
  release(): void;
}

/** Told about every IOCTL and port transition, for metrics and logs. */
export interface DriverObserver {
  ioctl?(operation: string, seconds: number, error?: Error): void;
  portConnected?(connected: boolean): void;
  eventsDropped?(count: bigint): void;
  /** Why the event port was lost or could not be connected; the stream retries with backoff. */
  portError?(error: Error): void;
}

/**
 * Time as the driver client needs it (the event stream's reconnect backoff). The driver
 * layer sits below the controller, so this is structural: controller/clock's Clock fits.
 */
export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The process's timers. */
export const realTimers: Timers = {
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

export interface EventStreamOptions {
  /** Stop the stream (and release the blocked reader) when this aborts. */
  signal?: AbortSignal;
}

export interface Driver {
  getState(): Promise<DriverState>;
  /** All pages, as one consistent snapshot (restarts if the table changes mid-listing). */
  listRules(): Promise<RuleTable>;
  /**
   * One atomic transaction; GenerationConflictError when the table changed. The added
   * rules' paths may be in the policy's form (DOS paths): they are written in the
   * driver's (`paths.toDriver`), so callers keep no second copy of a rule per form.
   */
  apply(tx: ApplyTransaction): Promise<ApplyResult>;
  setConfig(config: DriverConfig): Promise<void>;
  /** Event batches in the agent's terms (HostEvent); reconnects after port loss; ends when closed or aborted. */
  events(options?: EventStreamOptions): AsyncIterable<HostEventBatch>;
  /** Path conversion between policy (DOS) paths and the driver's (NT) paths. */
  readonly paths: PathTranslator;
  /**
   * Reads the node's volumes again (a volume mounted or removed since): `paths` follows.
   * True when the drive map changed.
   */
  refreshPaths(): boolean;
  close(): Promise<void>;
}

/**
 * DOS <-> NT device path conversion (`C:\x` <-> `\Device\HarddiskVolume3\x`), from
 * QueryDosDeviceW on Windows and from the emulator's drive map on Linux. Identity on a
 * posix-flavour driver.
 */
export interface PathTranslator {
  toDriver(path: string): string;
  /**
   * `toDriver(path)` as two parts, `prefix` + `path.slice(skip)`, without building it:
   * what a read-back compares each of 100k records with.
   */
  toDriverParts(path: string): DriverPathParts;
  fromDriver(path: string): string;
  /** The drive (`Q:`) of a DOS path when the node has no such volume; undefined when translatable. */
  missingVolume(path: string): string | undefined;
}
