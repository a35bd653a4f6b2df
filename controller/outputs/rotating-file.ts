/**
 * A LineTarget appending to a file with size-based rotation: before a write would take
 * the file past `maxBytes`, `path` becomes `path.1`, `path.1` becomes `path.2`, … and
 * the oldest beyond `maxFiles` rotated files is deleted. `maxFiles: 0` keeps no old
 * files (the file starts over). A single chunk larger than `maxBytes` still goes in
 * whole, into a fresh file.
 */
import { open, rename, rm, stat, mkdir, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { LineTarget } from './buffered.js';

export const PRIVATE_FILE_MODE = 0o600;
export const PRIVATE_DIR_MODE = 0o700;

export interface RotatingFileOptions {
  path: string;
  maxBytes: number;
  maxFiles: number;
}

export class RotatingFile implements LineTarget {
  rotations = 0;
  private handle: FileHandle | undefined;
  private size = 0;

  constructor(private readonly o: RotatingFileOptions) {
    if (!(Number.isInteger(o.maxBytes) && o.maxBytes > 0)) {
      throw new RangeError(`outputs.file.maxBytes must be a positive integer, got ${o.maxBytes}`);
    }
    if (!(Number.isInteger(o.maxFiles) && o.maxFiles >= 0)) {
      throw new RangeError(`outputs.file.maxFiles must be an integer ≥ 0, got ${o.maxFiles}`);
    }
  }

  async write(chunk: string): Promise<void> {
    const bytes = Buffer.byteLength(chunk);
    let handle = await this.opened();
    if (this.size > 0 && this.size + bytes > this.o.maxBytes) {
      await this.rotate();
      handle = await this.opened();
    }
    await handle.write(chunk);
    this.size += bytes;
  }

  async close(): Promise<void> {
    const h = this.handle;
    this.handle = undefined;
    await h?.close();
  }

  private async opened(): Promise<FileHandle> {
    if (this.handle) return this.handle;
    // Alerts name files and processes of the node: the owner's only, whatever the umask.
    await mkdir(dirname(this.o.path), { recursive: true, mode: PRIVATE_DIR_MODE });
    this.handle = await open(this.o.path, 'a', PRIVATE_FILE_MODE);
    await this.handle.chmod(PRIVATE_FILE_MODE); // an existing file keeps its mode on open
    this.size = (await stat(this.o.path)).size;
    return this.handle;
  }

  private async rotate(): Promise<void> {
    await this.close();
    const { path, maxFiles } = this.o;
    if (maxFiles === 0) await rm(path, { force: true });
    else {
      await rm(`${path}.${maxFiles}`, { force: true });
      for (let i = maxFiles - 1; i >= 1; i--) await renameIfExists(`${path}.${i}`, `${path}.${i + 1}`);
      await rename(path, `${path}.1`);
    }
    this.rotations++;
  }
}

async function renameIfExists(from: string, to: string): Promise<void> {
  try {
    await rename(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}
