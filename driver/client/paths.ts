/**
 * DOS <-> NT device path conversion. Policies speak DOS paths (`C:\Windows\cmd.exe`); the
 * minifilter sees NT device paths (`\Device\HarddiskVolume3\Windows\cmd.exe`). The map
 * comes from QueryDosDeviceW for each drive letter (the emulator answers from its
 * drive map). On a posix-flavour driver both directions are the identity.
 */
import { Flavor, WIN32 } from '../abi/types.js';
import { errorFromWin32 } from './errors.js';
import type { PathTranslator } from './types.js';
import type { Win32Binding } from '../win32/binding.js';

/** Drive letter (`C:`) -> NT device (`\Device\HarddiskVolume3`). */
export type DriveMap = ReadonlyMap<string, string>;

const DRIVE = /^([A-Za-z]):(?=\\|$)/;
const VERBATIM = /^(?:\\\\\?\\|\\\?\?\\)(?=[A-Za-z]:)/; // \\?\C: and \??\C:

export class DosPathTranslator implements PathTranslator {
  /** NT devices, longest first, so `\Device\HarddiskVolume30` wins over `...Volume3`. */
  private readonly devices: Array<{ drive: string; device: string; folded: string }>;
  private readonly drives = new Map<string, string>();

  constructor(drives: DriveMap) {
    this.devices = [];
    for (const [letter, device] of drives) {
      const drive = letter.slice(0, 1).toUpperCase() + ':';
      this.drives.set(drive, device);
      this.devices.push({ drive, device, folded: device.toUpperCase() });
    }
    this.devices.sort((a, b) => b.device.length - a.device.length);
  }

  toDriver(path: string): string {
    const bare = path.replace(VERBATIM, '');
    const m = DRIVE.exec(bare);
    if (!m) return path;
    const device = this.drives.get(m[1]!.toUpperCase() + ':');
    return device === undefined ? path : device + bare.slice(2);
  }

  missingVolume(path: string): string | undefined {
    const m = DRIVE.exec(path.replace(VERBATIM, ''));
    if (!m) return undefined;
    const drive = m[1]!.toUpperCase() + ':';
    return this.drives.has(drive) ? undefined : drive;
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

export const identityPaths: PathTranslator = { toDriver: (p) => p, fromDriver: (p) => p, missingVolume: () => undefined };

/** The drive map of this machine (or the emulator's), from QueryDosDeviceW on A: to Z:. */
export function queryDriveMap(binding: Win32Binding): Map<string, string> {
  const map = new Map<string, string>();
  for (let c = 65; c <= 90; c++) {
    const drive = String.fromCharCode(c) + ':';
    const { targets, error } = binding.queryDosDevice(drive);
    // ERROR_FILE_NOT_FOUND: no such drive. Anything else would silently lose a drive.
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
