/** What differs between a Windows node and a Linux machine running the emulator. */
import path from 'node:path';


export interface PlatformDefaults {
  stateDir: string;
  configPath: string;
  driverKind: string;
  /** Path arithmetic of that platform (win32 rules for `C:\…`). */
  paths: path.PlatformPath;
}

export function platformDefaults(platform: NodeJS.Platform = process.platform): PlatformDefaults {
  if (platform === 'win32') {
    return { stateDir: 'C:\\ProgramData\\kawin', configPath: 'C:\\ProgramData\\kawin\\config.json', driverKind: 'windows', paths: path.win32 };
  }
  return { stateDir: '/var/lib/kawin', configPath: '/etc/kawin/config.json', driverKind: 'emulator', paths: path.posix };
}

/** The control device of the Windows driver (driver-abi.md). */
export const WINDOWS_DEVICE = '\\\\.\\Karmor';
/** The event port of the Windows driver. */
export const WINDOWS_PORT = '\\KarmorPort';
