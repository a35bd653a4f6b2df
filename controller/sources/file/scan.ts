/**
 * Walking a policy tree: every policy file under a directory with a cheap change
 * signature from stat (device, inode, size, mtime, ctime in ns), so unchanged files are
 * not read again. Symbolic links are followed (GitOps trees use them); a link back to an
 * ancestor is visited once.
 */
import { stat as statCallback, type BigIntStats } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { mapLimit } from './map-limit.js';
import { isIgnoredName, isPolicyFileName } from './names.js';

export interface ScannedFile {
  /** Absolute path through the configured root (links not resolved): the unit's identity. */
  origin: string;
  signature: string;
  size: number;
  /** Anything but `file` is refused without being opened for reading. */
  type: EntryType;
}

export interface TreeScan {
  files: ScannedFile[];
  /** Every directory visited: its path through the root and its identity (device:inode). */
  dirs: Array<{ dir: string; identity: string }>;
  /** Entries below the scanned one that could not be read (a subdirectory without permission): skipped, not fatal. */
  unreadable: Array<{ entry: string; error: Error }>;
}

/** Called before a directory is listed, so a watcher placed there misses nothing written after. */
export type DirectoryVisitor = (dir: string, identity: string) => void;

const GONE = new Set(['ENOENT', 'ENOTDIR']);

function isGone(error: unknown): boolean {
  return GONE.has((error as NodeJS.ErrnoException).code ?? '');
}

/**
 * Scan directory `dir` recursively. Errors on `dir` itself reject; an unreadable entry
 * below it is listed in `unreadable` (the rest of the tree is still scanned); entries
 * vanishing mid-walk are skipped.
 */
export async function scanTree(dir: string, visit: DirectoryVisitor): Promise<TreeScan> {
  const top = await stat(dir, { bigint: true });
  if (!top.isDirectory()) throw Object.assign(new Error(`${dir} is not a directory`), { code: 'ENOTDIR' });
  return scanPath(dir, visit);
}

/**
 * Scan one entry of a tree: a directory recursively, a policy file alone (what one
 * event names, so a single change costs one stat), anything else as nothing. Rejects
 * when `entry` does not exist.
 */
export async function scanPath(entry: string, visit: DirectoryVisitor): Promise<TreeScan> {
  const out: TreeScan = { files: [], dirs: [], unreadable: [] };
  const s = await stat(entry, { bigint: true });
  if (s.isDirectory()) await walk(entry, `${s.dev}:${s.ino}`, new Set(), visit, out);
  else if (isPolicyFileName(path.basename(entry))) out.files.push(scannedFile(entry, s));
  return out;
}

function scannedFile(origin: string, s: BigIntStats): ScannedFile {
  return { origin, size: Number(s.size), type: typeOf(s), signature: `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}` };
}

export type EntryType = 'file' | 'fifo' | 'socket' | 'character device' | 'block device' | 'other';

export function typeOf(s: Pick<BigIntStats, 'isFile' | 'isFIFO' | 'isSocket' | 'isCharacterDevice' | 'isBlockDevice'>): EntryType {
  if (s.isFile()) return 'file';
  if (s.isFIFO()) return 'fifo';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'character device';
  return s.isBlockDevice() ? 'block device' : 'other';
}


async function walk(dir: string, identity: string, ancestors: Set<string>, visit: DirectoryVisitor, out: TreeScan): Promise<void> {
  if (ancestors.has(identity)) return;
  visit(dir, identity);
  out.dirs.push({ dir, identity });
  const names = await readdir(dir);
  const inner = new Set(ancestors).add(identity);
  await mapLimit(names.filter((n) => !isIgnoredName(n)), STATS_IN_FLIGHT, (n) => visitEntry(path.join(dir, n), inner, visit, out));
}

/** A directory's entries stat'ed at once (./map-limit.ts: a bounded burst of completions per turn). */
const STATS_IN_FLIGHT = 32;

/**
 * stat through fs's callback API: a scan of a thousand files stats them all at once, and
 * fs/promises' bookkeeping per call (about three times the callback API's) made their
 * completions one turn of tens of ms.
 */
const statBig = promisify(statCallback);
const statEntry = (entry: string): Promise<BigIntStats> => statBig(entry, { bigint: true });

async function visitEntry(entry: string, ancestors: Set<string>, visit: DirectoryVisitor, out: TreeScan): Promise<void> {
  try {
    const s = await statEntry(entry);
    if (s.isDirectory()) return await walk(entry, `${s.dev}:${s.ino}`, ancestors, visit, out);
    // A FIFO, device or socket with a policy file's name is reported (and refused when
    // read), never skipped: skipping would count as a deletion of the policy it replaced.
    if (isPolicyFileName(path.basename(entry))) out.files.push(scannedFile(entry, s));
  } catch (error) {
    if (!isGone(error)) out.unreadable.push({ entry, error: error as Error });
  }
}

export { isGone };
