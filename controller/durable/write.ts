import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';

/** Temp files start with this; a reader skips (and may delete) them. */
export const TMP_PREFIX = '.tmp-';

/**
 * Write `data` to `dir/name` atomically, the file with `mode` (default 0600) and the
 * directory created with `dirMode` (default 0700). On any failure the temp file is
 * removed before the error is rethrown: nothing is left for the next start to clean.
 */
export async function writeFileAtomic(dir: string, name: string, data: string | Uint8Array, mode = 0o600, dirMode = 0o700): Promise<void> {
  await mkdir(dir, { recursive: true, mode: dirMode });
  const tmp = join(dir, `${TMP_PREFIX}${randomBytes(6).toString('hex')}`);
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, join(dir, name));
  } catch (error) {
    await unlink(tmp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(dir);
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
