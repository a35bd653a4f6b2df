/** Settings, hooks and results of the file source. */
import type { Clock } from '../../clock/index.js';
import type { Logger } from '../../observability/log.js';
import type { PolicyDirectoryError } from './errors.js';
import type { RejectReason } from './read.js';

export const DEFAULT_MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface FileSourceSettings {
  /** Directories (recursive); relative ones resolve against the working directory. */
  paths: readonly string[];
  /** Rescan once events have stopped for this long (default 200)… */
  debounceMs?: number;
  /** …or this long after the first event of a burst, whichever comes first (default 2000). */
  debounceMaxWaitMs?: number;
  /** Larger files are rejected (default 4 MiB). */
  maxFileBytes?: number;
  /** Full rescan this often even without events (0 or absent: only on events). */
  rescanIntervalMs?: number;
}

/** Told about rejections and watch failures (for metrics) and every rescan's outcome. */
export interface FileSourceObserver {
  rejected?(reason: RejectReason): void;
  watchFailed?(): void;
  /** A rescan finished: what it found (for tests and diagnostics). */
  settled?(result: FileSourceSettled): void;
}

export interface FileSourceOptions extends FileSourceSettings {
  /** Source name given to the sink (default `files`). */
  name?: string;
  /** While a directory is unavailable, look again this often (default 5000 ms). */
  failureRetryMs?: number;
  clock?: Clock;
  logger?: Logger;
  observer?: FileSourceObserver;
}

/** What one rescan found; told to the observer's `settled` after every rescan. */
export interface FileSourceSettled {
  inSync: boolean;
  revision: string;
  upserted: string[];
  removed: string[];
  rejected: string[];
  error?: PolicyDirectoryError;
}
