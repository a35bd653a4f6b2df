/**
 * File-system errors that pass by themselves: out of descriptors (the process's or the
 * system's), a resource busy or temporarily unavailable, an interrupted call, memory
 * pressure. A read failing so is retried with backoff by whoever reads (the policy file
 * source, the config watcher; the delay is the clock's backoffDelay); any other failure
 * stands until the file changes.
 */
const TRANSIENT_CODES = new Set(['EMFILE', 'ENFILE', 'EAGAIN', 'EWOULDBLOCK', 'EBUSY', 'EINTR', 'ENOMEM', 'ENOBUFS', 'ETIMEDOUT']);

export function isTransientError(error: unknown): boolean {
  return TRANSIENT_CODES.has((error as NodeJS.ErrnoException | undefined)?.code ?? '');
}
