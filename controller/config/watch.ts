/**
 * Watches the config file and applies valid changes live. The directory is watched,
 * not the file, so atomic renames (write temp, rename over) and symlink swaps
 * (Kubernetes ConfigMap `..data` links) are seen; events are debounced, the file is
 * re-read and compared, and only a config that differs once resolved is announced.
 */
import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import { realClock, type Clock } from '../clock/index.js';
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
  private chain: Promise<void> = Promise.resolve();
  private readonly file: string;

  constructor(
    file: string,
    initial: AgentConfig,
    private readonly options: ConfigWatcherOptions = {},
  ) {
    this.file = path.resolve(file);
    this.config = initial;
    this.debounce = new Debouncer(options.clock ?? realClock, DEBOUNCE, () => void this.reload());
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
    await this.chain.catch(() => undefined);
  }

  private async reread(): Promise<void> {
    try {
      const text = await readRegularFile(this.file).catch(() => undefined);
      if (text !== undefined && text === this.lastText) return;
      this.lastText = text;
      const next = await loadConfig(this.file, this.options.overrides, this.options.load);
      if (JSON.stringify(next) === JSON.stringify(this.config)) return;
      const previous = this.config;
      this.config = next;
      this.options.observer?.changed?.(next, previous);
    } catch (error) {
      if (!(error instanceof ConfigValidationError)) throw error;
      this.options.observer?.invalid?.(error);
    } finally {
      this.options.observer?.settled?.();
    }
  }
}
