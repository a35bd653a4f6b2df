/**
 * Watches the config file and applies valid changes live. The directory is watched,
 * not the file, so atomic renames (write temp, rename over) and symlink swaps
 * (Kubernetes ConfigMap `..data` links) are seen; events are debounced, the file is
 * re-read and compared, and only a config that differs once resolved is announced.
 */
import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import { backoffDelay, realClock, type Clock, type TimerHandle } from '../clock/index.js';
import { isTransientError } from '../fserrors/index.js';
import { Debouncer, watchDirectory, type DebounceTiming } from '../watch/index.js';
import { ConfigValidationError } from './errors.js';
import { loadConfig, readRegularFile, type LoadOptions } from './load.js';
import type { AgentConfig, ConfigOverrides } from './types.js';

export interface ConfigWatcherOptions {
  overrides?: ConfigOverrides;
  clock?: Clock;
  observer?: ConfigWatcherObserver;
  /** Passed to loadConfig (platform, hostName). */
  load?: Omit<LoadOptions, 'optional'>;
}

/** Re-read 200 ms after the last file-system event, and at most 2 s after the first (docs/config.md). */
const DEBOUNCE: DebounceTiming = { quietMs: 200, maxWaitMs: 2000 };

/** First re-read after a read failed for a passing reason (EMFILE…); doubles up to the maximum. */
const TRANSIENT_RETRY_MS = 100;
const TRANSIENT_RETRY_MAX_MS = 5000;

/** Told what each re-read found. */
export interface ConfigWatcherObserver {
  /** A valid config that differs from the running one; it is now `current`. */
  changed?(next: AgentConfig, previous: AgentConfig): void;
  /** The file is invalid or unreadable; `current` is unchanged. */
  invalid?(error: ConfigValidationError): void;
  /** A re-read finished (whatever its outcome): for tests and diagnostics. */
  settled?(): void;
}

export class ConfigWatcher {
  private config: AgentConfig;
  private lastText: string | undefined;
  private watcher: FSWatcher | undefined;
  private readonly debounce: Debouncer;
  private readonly clock: Clock;
  /** While reads fail for a passing reason: the error shown, the retries so far, the next one. */
  private transient: { message: string; attempt: number; retry?: TimerHandle } | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(
    file: string,
    initial: AgentConfig,
    private readonly options: ConfigWatcherOptions = {},
  ) {
    this.file = path.resolve(file);
    this.config = initial;
    this.clock = options.clock ?? realClock;
    this.debounce = new Debouncer(this.clock, DEBOUNCE, () => void this.reload());
  }

  /** The running config: the last valid one. */
  get current(): AgentConfig {
    return this.config;
  }

  /** Start watching; the text read now is the baseline (no event for it). */
  async start(): Promise<void> {
    this.lastText = await readRegularFile(this.file).catch(() => undefined);
    this.watcher = watchDirectory(path.dirname(this.file), () => this.debounce.touch());
  }

  /** Re-read now (e.g. on SIGHUP), after any re-read in progress. */
  reload(): Promise<void> {
    this.chain = this.chain.catch(() => undefined).then(() => this.reread());
    return this.chain;
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    this.debounce.cancel();
    if (this.transient?.retry) this.clock.clearTimeout(this.transient.retry);
    this.transient = undefined;
    await this.chain.catch(() => undefined);
  }

  /**
   * A read failed for a passing reason: shown once per episode (not at every event), and
   * read again with backoff, so an edit made meanwhile is not lost.
   */
  private retryLater(error: ConfigValidationError): void {
    const previous = this.transient;
    const attempt = previous?.attempt ?? 0;
    this.transient = { message: error.message, attempt: attempt + 1, retry: previous?.retry };
    if (previous?.message !== error.message) this.options.observer?.invalid?.(error);
    if (this.transient.retry || !this.watcher) return;
    this.transient.retry = this.clock.setTimeout(() => {
      if (this.transient) this.transient.retry = undefined;
      void this.reload();
    }, backoffDelay(attempt, TRANSIENT_RETRY_MS, TRANSIENT_RETRY_MAX_MS));
  }

  private async reread(): Promise<void> {
    try {
      const text = await readRegularFile(this.file).catch(() => undefined);
      if (text !== undefined) this.passed();
      if (text !== undefined && text === this.lastText) return;
      this.lastText = text;
      const next = await loadConfig(this.file, this.options.overrides, this.options.load);
      if (JSON.stringify(next) === JSON.stringify(this.config)) return;
      const previous = this.config;
      this.config = next;
      this.options.observer?.changed?.(next, previous);
    } catch (error) {
      if (!(error instanceof ConfigValidationError)) throw error;
      this.rejected(error);
    } finally {
      this.options.observer?.settled?.();
    }
  }

  /** An invalid or unreadable file: told at once, or, when the failure passes by itself, retried. */
  private rejected(error: ConfigValidationError): void {
    if (isTransientError(error.cause)) return this.retryLater(error);
    this.passed();
    this.options.observer?.invalid?.(error);
  }

  /** The file could be read: a passing failure is over. */
  private passed(): void {
    if (this.transient?.retry) this.clock.clearTimeout(this.transient.retry);
    this.transient = undefined;
  }
}
