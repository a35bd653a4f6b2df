import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { PolicyFileTooLargeError, PolicyFileUnreadableError } from './errors.js';
import { isGone, type ScannedFile } from './scan.js';

export type ReadOutcome =
  | { kind: 'content'; text: string; digest: string }
  | { kind: 'gone' }
  | { kind: 'rejected'; reason: 'too_large' | 'unreadable'; error: Error };

export function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Read one policy file within the size limit (checked before and after reading: the file may grow meanwhile). */
export async function readPolicyFile(file: ScannedFile, maxBytes: number): Promise<ReadOutcome> {
  if (file.size > maxBytes) return { kind: 'rejected', reason: 'too_large', error: new PolicyFileTooLargeError(file.origin, file.size, maxBytes) };
  let data: Buffer;
  try {
    data = await readFile(file.origin);
  } catch (error) {
    if (isGone(error)) return { kind: 'gone' };
    return { kind: 'rejected', reason: 'unreadable', error: new PolicyFileUnreadableError(file.origin, error) };
  }
  if (data.length > maxBytes) return { kind: 'rejected', reason: 'too_large', error: new PolicyFileTooLargeError(file.origin, data.length, maxBytes) };
  const text = data.toString('utf8');
  return { kind: 'content', text: text.charCodeAt(0) === 0xfeff ? text.slice(1) : text, digest: sha256(data) };
}

/** Run `fn` over `items` with at most `limit` in flight, results in input order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
