/**
 * NT device paths from the driver to the DOS paths policies and users speak, through
 * the injected PathTranslator. Process images recur without end, so they go through a
 * bounded cache (`toDos`). File paths are often seen once, where a cache lookup costs
 * more than it saves, so `convert` rewrites them with the device prefixes the
 * translator has already mapped (`\Device\HarddiskVolume3\x` → `C:\x`), asking the
 * translator only for a prefix it has not seen.
 */
import type { PathTranslator } from '../../driver/client/types.js';
import { BoundedMap } from './bounded-map.js';

interface DevicePrefix {
  device: string;
  drive: string;
}

/** Device prefixes remembered (one per volume in practice). */
const MAX_PREFIXES = 32;
const BACKSLASH = 0x5c;

export class DosPathCache {
  readonly cache: BoundedMap<string, string>;
  private readonly prefixes: DevicePrefix[] = [];

  constructor(private readonly translator: PathTranslator, capacity: number) {
    this.cache = new BoundedMap('events.pathCacheSize', capacity);
  }

  /** Cached conversion, for paths that recur (process images). */
  toDos(ntPath: string): string {
    if (ntPath === '') return '';
    return this.cache.getOrCompute(ntPath, (p) => this.convert(p));
  }

  /** Uncached conversion by a known device prefix, else by the translator. */
  convert(ntPath: string): string {
    for (const p of this.prefixes) {
      if (ntPath.startsWith(p.device) && (ntPath.length === p.device.length || ntPath.charCodeAt(p.device.length) === BACKSLASH)) {
        return p.drive + ntPath.slice(p.device.length);
      }
    }
    const dos = this.translator.fromDriver(ntPath);
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

/**
 * The arguments of a Windows command line: everything after the first token (the
 * program, quoted or not), trimmed. Upstream reports an exec as the image path followed
 * by argv[1..], so this is what follows the image in `Resource`.
 */
export function commandLineArguments(commandLine: string): string {
  const line = commandLine.trimStart();
  if (line === '') return '';
  let end: number;
  if (line[0] === '"') {
    const close = line.indexOf('"', 1);
    end = close < 0 ? line.length : close + 1;
  } else {
    const space = line.search(/[ \t]/);
    end = space < 0 ? line.length : space;
  }
  return line.slice(end).trim();
}
