/**
 * Where the Windows ABI stops: a decoded driver event (FILETIME, NT device paths) becomes
 * a HostEvent in the agent's terms — Unix time in microseconds and DOS paths — before
 * it leaves the driver client, so nothing above the driver layer knows FILETIME or NT
 * paths. Conversions are cached: events arrive in time order (one BigInt subtraction
 * per event within a second), process images recur (a bounded cache), and file paths
 * are rewritten by the device prefixes the translator has mapped before.
 */
import { BoundedMap } from '../collections/index.js';
import { FILETIME_UNIX_EPOCH } from '../abi/codec.js';
import type { DriverEvent } from '../abi/types.js';

/** The part of the driver's PathTranslator (types.ts) the conversion needs. */
export interface NtToDos {
  fromDriver(ntPath: string): string;
}

/**
 * A driver event in the agent's terms: the driver's fields (DriverEvent) with the time as
 * Unix microseconds and every path in DOS form.
 */
export interface HostEvent extends Omit<DriverEvent, 'time' | 'targetPath' | 'imagePath' | 'parentImagePath'> {
  /** Unix time in whole microseconds (the driver's 100 ns digit truncated, as the wire format has six). */
  timeMicros: number;
  /** DOS path of the file, or of the new image. */
  targetPath: string;
  /** DOS path of the acting process's image ('' when unknown). */
  imagePath: string;
  /** DOS path of its parent's image ('' when unknown or exited). */
  parentImagePath: string;
}

export interface HostEventBatch {
  /** Records the driver dropped (its ring was full) since the previous batch. */
  dropped: bigint;
  firstSequence: bigint;
  events: HostEvent[];
  /** Entries the NT→DOS path cache evicted (it was full) since the previous batch. */
  pathCacheEvictions: number;
}

const TICKS_PER_SECOND = 10_000_000n;

/** FILETIME → Unix microseconds, exact, caching the current second. */
export class FiletimeConverter {
  private secondStart = -1n;
  private secondMicros = 0;

  micros(filetime: bigint): number {
    const ticks = Number(filetime - this.secondStart);
    if (this.secondStart < 0n || !(ticks >= 0 && ticks < 10_000_000)) return this.newSecond(filetime);
    return this.secondMicros + Math.floor(ticks / 10);
  }

  private newSecond(filetime: bigint): number {
    const since = filetime - FILETIME_UNIX_EPOCH;
    let seconds = since / TICKS_PER_SECOND;
    if (since % TICKS_PER_SECOND < 0n) seconds -= 1n; // BigInt division truncates toward zero
    this.secondStart = FILETIME_UNIX_EPOCH + seconds * TICKS_PER_SECOND;
    this.secondMicros = Number(seconds) * 1_000_000;
    return this.secondMicros + Math.floor(Number(filetime - this.secondStart) / 10);
  }
}

interface DevicePrefix {
  device: string;
  drive: string;
}

/** Device prefixes remembered (one per volume in practice). */
const MAX_PREFIXES = 32;
const BACKSLASH = 0x5c;

/**
 * NT device paths to DOS paths through the translator: `toDos` caches (process images
 * recur without end), `convert` rewrites by a known device prefix (file paths are often
 * seen once, where a cache costs more than it saves).
 */
export class DosPathCache {
  readonly cache: BoundedMap<string, string>;
  private prefixes: DevicePrefix[] = [];

  constructor(private readonly translator: () => NtToDos, capacity: number) {
    this.cache = new BoundedMap('events.pathCacheSize', capacity);
  }

  /** The drive map changed: forget every conversion. */
  reset(): void {
    this.prefixes = [];
    this.cache.clear();
  }

  /** Cached conversion, for paths that recur (process images). */
  toDos(ntPath: string): string {
    if (ntPath === '') return '';
    return this.cache.getOrCompute(ntPath, (p) => this.convert(p));
  }

  /** Uncached conversion by a known device prefix, else by the translator. */
  convert(ntPath: string): string {
    if (ntPath === '') return '';
    for (const p of this.prefixes) {
      if (ntPath.startsWith(p.device) && (ntPath.length === p.device.length || ntPath.charCodeAt(p.device.length) === BACKSLASH)) {
        return p.drive + ntPath.slice(p.device.length);
      }
    }
    const dos = this.translator().fromDriver(ntPath);
    this.learn(ntPath, dos);
    return dos;
  }

  /** `\Device\X\rest` ↔ `C:\rest`: remember `\Device\X` → `C:`. */
  private learn(nt: string, dos: string): void {
    if (dos === nt || this.prefixes.length >= MAX_PREFIXES || !/^[A-Za-z]:(\\|$)/.test(dos)) return;
    const rest = dos.slice(2);
    if (!nt.endsWith(rest)) return;
    const device = nt.slice(0, nt.length - rest.length);
    if (device.length > 0 && !this.prefixes.some((p) => p.device === device)) this.prefixes.push({ device, drive: dos.slice(0, 2) });
  }
}

/** DriverEvent → HostEvent, with the caches above. */
export class HostEventConverter {
  readonly paths: DosPathCache;
  private readonly time = new FiletimeConverter();

  constructor(translator: () => NtToDos, pathCacheSize: number) {
    this.paths = new DosPathCache(translator, pathCacheSize);
  }

  /** Evictions of the path cache since the last call. */
  takeEvictions(): number {
    const n = this.paths.cache.evictions;
    this.paths.cache.evictions = 0;
    return n;
  }

  convert(e: DriverEvent): HostEvent {
    const p = this.paths;
    return {
      type: e.type, decision: e.decision, timeMicros: this.time.micros(e.time), ruleId: e.ruleId,
      processId: e.processId, parentProcessId: e.parentProcessId, threadId: e.threadId, status: e.status,
      desiredAccess: e.desiredAccess, sessionId: e.sessionId, newProcessId: e.newProcessId,
      targetPath: p.convert(e.targetPath), imagePath: p.toDos(e.imagePath), parentImagePath: p.toDos(e.parentImagePath),
      commandLine: e.commandLine, userSid: e.userSid, currentDirectory: e.currentDirectory,
    };
  }
}
