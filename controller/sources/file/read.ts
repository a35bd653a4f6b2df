import { createHash } from 'node:crypto';
import { close, constants, fstat, open, read, type BigIntStats } from 'node:fs';
import { stat } from 'node:fs/promises';
import { decodePolicyText, PolicyEncodingError } from '../../policy/index.js';
import { isTransientError } from '../../fserrors/index.js';
import { PolicyFileNotRegularError, PolicyFileTooLargeError, PolicyFileUnreadableError } from './errors.js';
import { isGone, typeOf, type ScannedFile } from './scan.js';

/** transient: a read failed for a passing reason (fserrors) and is retried. */
export type RejectReason = 'too_large' | 'unreadable' | 'transient' | 'not_regular' | 'encoding';

export type ReadOutcome =
  | { kind: 'content'; text: string; digest: string }
  | { kind: 'gone' }
  | { kind: 'rejected'; reason: RejectReason; error: Error };

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

// O_NONBLOCK: a FIFO (or device) swapped in after the scan must not hold a thread in
// open() forever; whatever it is, fstat on the descriptor decides before any read.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);
const CHUNK_BYTES = 64 * 1024;

/** The bytes of a policy file, or why not. */
export type BytesOutcome = { kind: 'bytes'; data: Buffer } | Exclude<ReadOutcome, { kind: 'content' }>;

/**
 * Read one policy file within the size limit: at most `maxBytes + 1` bytes are ever read
 * from the descriptor, so a file that grows, or a pseudo-file that never ends (procfs,
 * `/dev/zero` behind a symlink), costs at most the limit.
 */
export async function readPolicyFile(file: ScannedFile, maxBytes: number): Promise<ReadOutcome> {
  const outcome = await readPolicyBytes(file, maxBytes);
  if (outcome.kind !== 'bytes') return outcome;
  try {
    return { kind: 'content', text: decodePolicyText(outcome.data, file.origin), digest: sha256(outcome.data) };
  } catch (error) {
    if (error instanceof PolicyEncodingError) return rejected('encoding', error);
    throw error;
  }
}

/**
 * The bytes of one policy file, read as the file source reads them: anything but a
 * regular file (by the scan's stat, then by fstat on a descriptor opened without
 * blocking) is refused unread, and at most `maxBytes + 1` bytes are read.
 */
export async function readPolicyBytes(file: Pick<ScannedFile, 'origin' | 'size' | 'type'>, maxBytes: number): Promise<BytesOutcome> {
  if (file.type !== 'file') return rejected('not_regular', new PolicyFileNotRegularError(file.origin, file.type));
  if (file.size > maxBytes) return rejected('too_large', new PolicyFileTooLargeError(file.origin, file.size, maxBytes));
  let fd: number;
  try {
    fd = await openFd(file.origin, OPEN_FLAGS);
  } catch (error) {
    if (isGone(error)) return { kind: 'gone' };
    return unreadable(file.origin, error);
  }
  try {
    const info = await fstatFd(fd);
    if (!info.isFile()) return rejected('not_regular', new PolicyFileNotRegularError(file.origin, typeOf(info)));
    const data = await readBounded(fd, maxBytes, Number(info.size));
    if (data.length > maxBytes) return rejected('too_large', new PolicyFileTooLargeError(file.origin, data.length, maxBytes, true));
    return { kind: 'bytes', data };
  } catch (error) {
    return unreadable(file.origin, error);
  } finally {
    await closeFd(fd);
  }
}

// The descriptor calls through fs's callback API: a thousand files read at start-up cost
// about a third of the main thread's time that fs/promises' FileHandle takes.
const openFd = (path: string, flags: number): Promise<number> =>
  new Promise((resolve, reject) => open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
const fstatFd = (fd: number): Promise<BigIntStats> =>
  new Promise((resolve, reject) => fstat(fd, { bigint: true }, (error, stats) => (error ? reject(error) : resolve(stats))));
const readFd = (fd: number, into: Buffer): Promise<number> =>
  new Promise((resolve, reject) => read(fd, into, 0, into.length, null, (error, bytes) => (error ? reject(error) : resolve(bytes))));
const closeFd = (fd: number): Promise<void> => new Promise((resolve) => close(fd, () => resolve()));

/** The bytes of the policy file at `origin` (a CLI argument): stat first (it never blocks), then as above; throws the refusal. */
export async function readPolicyPath(origin: string, maxBytes: number): Promise<Buffer> {
  const info = await stat(origin, { bigint: true });
  const outcome = await readPolicyBytes({ origin, size: Number(info.size), type: typeOf(info) }, maxBytes);
  if (outcome.kind === 'bytes') return outcome.data;
  if (outcome.kind === 'gone') throw Object.assign(new Error(`${origin} vanished while being read`), { code: 'ENOENT' });
  throw outcome.error;
}

/**
 * Up to `maxBytes + 1` bytes of the regular file (one more than allowed proves "too
 * large"). The first read asks for one byte more than fstat's size, so a file that did
 * not change takes one read: a short read of a regular file is its end.
 */
async function readBounded(fd: number, maxBytes: number, size: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  let want = Math.min(size + 1, CHUNK_BYTES);
  while (total <= maxBytes) {
    const chunk = Buffer.allocUnsafe(Math.min(want, maxBytes + 1 - total));
    const bytesRead = await readFd(fd, chunk);
    if (bytesRead === 0) break;
    chunks.push(chunk.subarray(0, bytesRead));
    total += bytesRead;
    if (bytesRead < chunk.length) break;
    want = CHUNK_BYTES;
  }
  return Buffer.concat(chunks, total);
}

function rejected(reason: RejectReason, error: Error): { kind: 'rejected'; reason: RejectReason; error: Error } {
  return { kind: 'rejected', reason, error };
}

function unreadable(origin: string, error: unknown): { kind: 'rejected'; reason: RejectReason; error: Error } {
  const transient = isTransientError(error);
  return rejected(transient ? 'transient' : 'unreadable', new PolicyFileUnreadableError(origin, error, transient));
}
