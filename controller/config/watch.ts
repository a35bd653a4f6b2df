/**
 * Watches the config file and applies valid changes live. The directory is watched,
 * not the file, so atomic renames (write temp, rename over) and symlink swaps
 * (Kubernetes ConfigMap `..data` links) are seen; events are debounced, the file is
 * re-read and compared, and only a config that differs once resolved is announced.
 */
import { EventEmitter } from 'node:events';
import { watch, type FSWatcher } from 'node:fs';
import path from 'node:path';
import { realClock, type Clock, type TimerHandle } from '../clock/index.js';
import { ConfigValidationError } from './errors.js';
import { isTransientError, retryDelay } from '../fserrors/index.js';

/** First re-read after a read failed for a passing reason (EMFILE…); doubles up to the maximum. */
const TRANSIENT_RETRY_MS = 100;
const TRANSIENT_RETRY_MAX_MS = 5000;
import { loadConfig, readRegularFile, type LoadOptions } from './load.js';
import type { AgentConfig, ConfigOverrides } from './types.js';

export interface ConfigWatcherOptions {
  overrides?: ConfigOverrides;
  clock?: Clock;
  /** Quiet time after the last file-system event before re-reading (default 200 ms). */
  debounceMs?: number;
  /** Passed to loadConfig (platform, hostName). */
  load?: Omit<LoadOptions, 'optional'>;
}

interface ConfigWatcherEvents {
  /** A valid config that differs from the running one; it is now `current`. */
  change: [next: AgentConfig, previous: AgentConfig];
  /** The file is invalid or unreadable; `current` is unchanged. */
  invalid: [error: ConfigValidationError];
  /** A re-read finished (whatever its outcome): for tests and diagnostics. */
  settled: [];
}

export class ConfigWatcher extends EventEmitter<ConfigWatcherEvents> {
  private config: AgentConfig;
  private lastText: string | undefined;
  private watcher: FSWatcher | undefined;
  private timer: TimerHandle | undefined;
  /** While reads fail for a passing reason: the error shown, and the retries so far. */
  private transient: { message: string; attempt: number } | undefined;
  private chain: Promise<void> = Promise.resolve();
  private readonly clock: Clock;
  private readonly file: string;

  constructor(
    file: string,
    initial: AgentConfig,
    private readonly options: ConfigWatcherOptions = {},
  ) {
    super();
    this.file = path.resolve(file);
    this.config = initial;
    this.clock = options.clock ?? realClock;
  }

  /** The running config: the last valid one. */
  get current(): AgentConfig {
    return this.config;
  }

  /** Start watching; the text read now is the baseline (no event for it). */
  async start(): Promise<void> {
    this.lastText = await readRegularFile(this.file).catch(() => undefined);
    this.watcher = watch(path.dirname(this.file), () => this.schedule());
    this.watcher.on('error', () => this.schedule());
  }

  /** Re-read now (e.g. on SIGHUP), after any re-read in progress. */
  reload(): Promise<void> {
    this.chain = this.chain.catch(() => undefined).then(() => this.reread());
    return this.chain;
  }

  async close(): Promise<void> {
    this.watcher?.close();
    this.watcher = undefined;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.chain.catch(() => undefined);
  }

  private schedule(): void {
    if (!this.watcher) return;
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, this.options.debounceMs ?? 200);
  }

  /**
   * A read failed for a passing reason: shown once per episode (not at every event), and
   * read again with backoff, so an edit made meanwhile is not lost.
   */
  private retryLater(error: ConfigValidationError): void {
    const shown = this.transient?.message;
    const attempt = this.transient?.attempt ?? 0;
    this.transient = { message: error.message, attempt: attempt + 1 };
    if (shown !== error.message) this.emit('invalid', error);
    if (this.timer || !this.watcher) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      void this.reload();
    }, retryDelay(attempt, TRANSIENT_RETRY_MS, TRANSIENT_RETRY_MAX_MS));
  }

  private async reread(): Promise<void> {
    try {
      const text = await readRegularFile(this.file).catch(() => undefined);
      if (text !== undefined) this.transient = undefined;
      if (text !== undefined && text === this.lastText) return;
      this.lastText = text;
      const next = await loadConfig(this.file, this.options.overrides, this.options.load);
      if (JSON.stringify(next) === JSON.stringify(this.config)) return;
      const previous = this.config;
      this.config = next;
      this.emit('change', next, previous);
    } catch (error) {
      if (!(error instanceof ConfigValidationError)) throw error;
      if (isTransientError(error.cause)) return this.retryLater(error);
      this.transient = undefined;
      this.emit('invalid', error);
    } finally {
      this.emit('settled');
    }
  }
}
