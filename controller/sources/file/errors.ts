/** A policy file larger than `sources.files.maxFileBytes`: rejected, its previous version stays. */
export class PolicyFileTooLargeError extends Error {
  override readonly name = 'PolicyFileTooLargeError';
  constructor(
    readonly path: string,
    readonly size: number,
    readonly limit: number,
    /** Found while reading (reading stopped one byte past the limit): the true size may be larger. */
    readonly atLeast = false,
  ) {
    super(`${path} is ${atLeast ? 'more than ' : ''}${atLeast ? limit : size} bytes, over the limit of ${limit} bytes (sources.files.maxFileBytes); its previous version stays in force`);
  }
}

/** A FIFO, device or socket where a policy file should be: refused without being read. */
export class PolicyFileNotRegularError extends Error {
  override readonly name = 'PolicyFileNotRegularError';
  constructor(
    readonly path: string,
    readonly type: string,
  ) {
    super(`${path} is a ${type}, not a regular file; its previous version stays in force`);
  }
}

/**
 * A policy file that exists but cannot be read: for good (permissions, I/O error), or for
 * a passing reason (`transient`: out of descriptors, busy), then retried with backoff.
 */
export class PolicyFileUnreadableError extends Error {
  override readonly name = 'PolicyFileUnreadableError';
  constructor(
    readonly path: string,
    cause: unknown,
    readonly transient = false,
  ) {
    const retry = transient ? ' (a passing failure: retried with backoff)' : '';
    super(`cannot read ${path}: ${(cause as Error).message}${retry}; its previous version stays in force`, { cause });
  }
}

/** One or more configured directories cannot be listed: the source is not in sync and prunes nothing. */
export class PolicyDirectoryError extends Error {
  override readonly name = 'PolicyDirectoryError';
  constructor(readonly failures: ReadonlyMap<string, Error>) {
    const parts = [...failures].map(([dir, e]) => `${dir}: ${describe(e)}`);
    super(`policy directory unavailable (nothing is removed until it is back): ${parts.join('; ')}`, { cause: [...failures.values()][0] });
  }
}

function describe(error: Error): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'does not exist';
  if (code === 'ENOTDIR') return 'is not a directory';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  return error.message;
}
