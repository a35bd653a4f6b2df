/**
 * %ProgramData%\kawin: config, policies, state and logs, owned by the node, not by the MSI
 * (which never overwrites or removes them). It must be readable and writable by SYSTEM and
 * Administrators only (policies decide what the node may do; the state holds what gRPC
 * clients applied), so `initDataDir` replaces its inherited ACL with those two, by
 * well-known SID so that it works in every language. The MSI runs it at every install and
 * upgrade, since wixl has no Permission element.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, constants, mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { platformDefaults } from '../config/index.js';

/** LocalSystem and BUILTIN\\Administrators. */
const SYSTEM_SID = '*S-1-5-18';
const ADMINISTRATORS_SID = '*S-1-5-32-544';
export const DATA_SUBDIRS = ['policies', 'state', 'logs'] as const;

export class DataDirError extends Error {
  override readonly name = 'DataDirError';
}

/** %ProgramData%\kawin (the folder of the default config file). */
export function dataDir(): string {
  return path.win32.dirname(platformDefaults('win32').configPath);
}

export interface InitDataResult {
  /** Whether config.json was written from the default (false: the node's own was kept). */
  wroteConfig: boolean;
  icaclsArgs: string[];
}

/**
 * Creates the folders, writes config.json from `defaultConfig` only when there is none,
 * and grants full control to SYSTEM and Administrators only (icacls).
 */
export function initDataDir(defaultConfig?: string, dir = dataDir()): InitDataResult {
  for (const sub of DATA_SUBDIRS) mkdirSync(path.win32.join(dir, sub), { recursive: true });
  const wroteConfig = defaultConfig ? copyIfAbsent(defaultConfig, path.win32.join(dir, 'config.json')) : false;
  const args = [dir, '/inheritance:r', '/grant:r', `${SYSTEM_SID}:(OI)(CI)F`, `${ADMINISTRATORS_SID}:(OI)(CI)F`, '/T', '/C', '/Q'];
  const r = spawnSync('icacls.exe', args, { encoding: 'utf8', windowsHide: true });
  if (r.error) throw new DataDirError(`icacls could not run: ${r.error.message}`, { cause: r.error });
  if (r.status !== 0) throw new DataDirError(`icacls ${args.join(' ')} exited ${r.status}: ${(r.stderr || r.stdout).trim()}`);
  return { wroteConfig, icaclsArgs: args };
}

function copyIfAbsent(from: string, to: string): boolean {
  try {
    copyFileSync(from, to, constants.COPYFILE_EXCL);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new DataDirError(`cannot write the default config ${to} from ${from}`, { cause: error });
  }
}

/** How long remove-data keeps trying while a file in the folder is still held open. */
export const REMOVE_DATA_TIMEOUT_MS = 30_000;

/**
 * Deletes the whole folder (uninstall with KAWIN_REMOVE_DATA=1). Tries again every half
 * second for up to REMOVE_DATA_TIMEOUT_MS: the service reports STOPPED before its process
 * has exited, and a file still held open keeps its folder from being removed. (Node's own
 * `maxRetries` backs off linearly: 60 retries would wait 15 minutes.)
 */
export function removeDataDir(dir = dataDir(), timeoutMs = REMOVE_DATA_TIMEOUT_MS): void {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      rmSync(dir, { recursive: true, force: true });
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (!['ENOTEMPTY', 'EBUSY', 'EPERM'].includes(code ?? '') || Date.now() >= deadline) throw error;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
}
