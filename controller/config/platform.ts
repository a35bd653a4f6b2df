/** What differs between a Windows node and a Linux machine running the emulator. */
import path from 'node:path';


export interface PlatformDefaults {
  stateDir: string;
  configPath: string;
  /** The agent's log file when `logging.file` is not set (Windows: a service has no console). */
  logFile?: string;
  driverKind: string;
  /** Path arithmetic of that platform (win32 rules for `C:\…`). */
  paths: path.PlatformPath;
}

export function platformDefaults(platform: NodeJS.Platform = process.platform, env: NodeJS.ProcessEnv = process.env): PlatformDefaults {
  if (platform === 'win32') {
    // %ProgramData%\kawin holds everything the node owns; the MSI restricts it to SYSTEM and Administrators.
    const home = path.win32.join(env.ProgramData ?? 'C:\\ProgramData', 'kawin');
    return {
      stateDir: path.win32.join(home, 'state'), configPath: path.win32.join(home, 'config.json'),
      logFile: path.win32.join(home, 'logs', 'agent.log'), driverKind: 'windows', paths: path.win32,
    };
  }
  return { stateDir: '/var/lib/kawin', configPath: '/etc/kawin/config.json', driverKind: 'emulator', paths: path.posix };
}

/** The control device of the Windows driver (driver-abi.md). */
export const WINDOWS_DEVICE = '\\\\.\\Karmor';
/** The event port of the Windows driver. */
export const WINDOWS_PORT = '\\KarmorPort';
