import { mkdir, stat } from 'node:fs/promises';

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

/** State another user owns or can write: using it would let them choose what is enforced. */
export class UnsafeStateError extends Error {
  override readonly name = 'UnsafeStateError';
}

/**
 * Throws UnsafeStateError when `path` is not the agent user's, or group or others can write
 * it. POSIX modes only: on Windows the state lives under ProgramData, whose ACLs the
 * installer sets; they are not checked here.
 */
export async function verifyPrivate(path: string): Promise<void> {
  const uid = process.getuid?.();
  if (uid === undefined || process.platform === 'win32') return;
  const s = await stat(path);
  if (s.uid !== uid) {
    throw new UnsafeStateError(`${path} belongs to uid ${s.uid}, not to the agent's user (uid ${uid}): refusing to use it`);
  }
  if ((s.mode & 0o022) !== 0) {
    const fix = s.isDirectory() ? '700' : '600';
    throw new UnsafeStateError(`${path} is writable by group or others (mode ${(s.mode & 0o777).toString(8)}): refusing to use it (chmod ${fix} ${path})`);
  }
}

/** Creates `dir` (and missing parents) 0700, then verifies it is the agent's only. */
export async function ensurePrivateDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  await verifyPrivate(dir);
}
