/**
 * DOS <-> NT device path conversion. Policies speak DOS paths (`C:\Windows\cmd.exe`); the
 * minifilter sees NT device paths (`\Device\HarddiskVolume3\Windows\cmd.exe`). The map
 * comes from QueryDosDeviceW for each drive letter (the emulator answers from its
 * drive map). On a posix-flavour driver both directions are the identity.
 */
import { Flavor, WIN32 } from '../abi/types.js';
import { errorFromWin32 } from './errors.js';
import { AS_IS_PARTS as AS_IS } from '../abi/rules-codec.js';
import type { DriverPathParts, PathTranslator } from './types.js';
import type { Win32Binding } from '../win32/binding.js';

/** Drive letter (`C:`) -> NT device (`\Device\HarddiskVolume3`). */
export type DriveMap = ReadonlyMap<string, string>;

/**
 * Where the drive letter of a DOS path is (`C:`, `\\?\C:`, `\??\C:`, followed by `\` or
 * the end), or -1. Character tests rather than a regular expression: admission runs
 * this for every rule of the table.
 */
function driveAt(path: string): number {
  let at = 0;
  if (path.charCodeAt(0) === 0x5c) {
    // \\?\ or \??\ (verbatim prefixes)
    const verbatim = path.charCodeAt(3) === 0x5c && path.charCodeAt(2) === 0x3f &&
      (path.charCodeAt(1) === 0x5c || path.charCodeAt(1) === 0x3f);
    if (!verbatim) return -1;
    at = 4;
  }
  const letter = path.charCodeAt(at) | 0x20;
  if (letter < 0x61 || letter > 0x7a || path.charCodeAt(at + 1) !== 0x3a) return -1;
  return path.length === at + 2 || path.charCodeAt(at + 2) === 0x5c ? at : -1;
}

const letterIndex = (path: string, at: number): number => (path.charCodeAt(at) | 0x20) - 0x61;

export class DosPathTranslator implements PathTranslator {
  /** NT devices, longest first, so `\Device\HarddiskVolume30` wins over `...Volume3`. */
  private readonly devices: Array<{ drive: string; device: string; folded: string }>;
  /** NT device by drive letter (a = 0). */
  private readonly byLetter: (string | undefined)[] = new Array<string | undefined>(26).fill(undefined);
  /** The parts of a plain `C:\…` path by drive letter, made once (the encoder asks for every rule). */
  private readonly plainParts: (DriverPathParts | undefined)[] = new Array<DriverPathParts | undefined>(26).fill(undefined);

  constructor(drives: DriveMap) {
    this.devices = [];
    for (const [letter, device] of drives) {
      const drive = letter.slice(0, 1).toUpperCase() + ':';
      this.byLetter[letterIndex(drive, 0)] = device;
      this.plainParts[letterIndex(drive, 0)] = Object.freeze({ prefix: device, skip: 2 });
      this.devices.push({ drive, device, folded: device.toUpperCase() });
    }
    this.devices.sort((a, b) => b.device.length - a.device.length);
  }

  toDriver(path: string): string {
    const { prefix, skip } = this.toDriverParts(path);
    return skip === 0 && prefix === '' ? path : prefix + path.slice(skip);
  }

  toDriverParts(path: string): DriverPathParts {
    const at = driveAt(path);
    if (at === 0) return this.plainParts[letterIndex(path, 0)] ?? AS_IS;
    const device = at < 0 ? undefined : this.byLetter[letterIndex(path, at)];
    return device === undefined ? AS_IS : { prefix: device, skip: at + 2 };
  }

  missingVolume(path: string): string | undefined {
    const at = driveAt(path);
    if (at < 0 || this.byLetter[letterIndex(path, at)] !== undefined) return undefined;
    return `${path.charAt(at).toUpperCase()}:`;
  }

  fromDriver(path: string): string {
    const folded = path.toUpperCase();
    for (const d of this.devices) {
      if (!folded.startsWith(d.folded)) continue;
      const next = path.charAt(d.device.length);
      if (next === '' || next === '\\') return d.drive + path.slice(d.device.length);
    }
    return path;
  }
}

export const identityPaths: PathTranslator = { toDriver: (p) => p, toDriverParts: () => AS_IS, fromDriver: (p) => p, missingVolume: () => undefined };

/**
 * The drive map of this machine (or the emulator's): GetLogicalDrives for the letters
 * present, then QueryDosDeviceW for each (one call per drive, not 26: a full read-back
 * reads the map again).
 */
export function queryDriveMap(binding: Win32Binding): Map<string, string> {
  const map = new Map<string, string>();
  const { mask, error: maskError } = binding.logicalDrives();
  if (mask === 0 && maskError !== 0) throw errorFromWin32('GetLogicalDrives', maskError);
  for (let c = 0; c < 26; c++) {
    if ((mask & (1 << c)) === 0) continue;
    const drive = String.fromCharCode(65 + c) + ':';
    const { targets, error } = binding.queryDosDevice(drive);
    // ERROR_FILE_NOT_FOUND: the drive went away meanwhile. Anything else would silently lose a drive.
    if (error !== 0 && error !== WIN32.fileNotFound) throw errorFromWin32('QueryDosDeviceW', error);
    if (targets[0] !== undefined) map.set(drive, targets[0]);
  }
  return map;
}

/** Same letters, same devices (letters upper case, as queryDriveMap returns them). */
export function sameDriveMap(a: DriveMap, b: DriveMap): boolean {
  if (a.size !== b.size) return false;
  for (const [drive, device] of a) if (b.get(drive) !== device) return false;
  return true;
}

export function pathTranslatorFor(flavor: Flavor, drives: DriveMap): PathTranslator {
  return flavor === Flavor.Posix ? identityPaths : new DosPathTranslator(drives);
}
