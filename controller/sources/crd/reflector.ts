/**
 * A reflector (client-go's name for the list-then-watch loop behind an informer) for one
 * resource. It hands its handler the full set after every successful list and single
 * changes from the watch, and survives what the API server and the network do:
 *   - 410 Gone (compacted resourceVersion) → re-list; objects that vanished are reported
 *     only once that list has succeeded whole (all pages);
 *   - a stream the server closes (watch timeout) → re-watch from the last resourceVersion;
 *   - a stream that goes silent (half-open connection) → the watchdog aborts it after the
 *     silence limit, then re-watch; bookmarks keep a healthy idle stream talking;
 *   - any other failure → report it (nothing is removed) and retry with backoff;
 *   - a periodic re-list as a backstop against missed events.
 * Every timer runs on the injected Clock.
 */
import { sleep, type Clock, type TimerHandle } from '../../clock/index.js';
import { KubeApiError, WatchSilentError, watchStatusError } from './errors.js';
import type { KubeApi } from './client.js';
import type { KubeObject, WatchEvent } from './types.js';

export interface ReflectorHandler {
  /** The full current set (after the initial list and every re-list). */
  replaced(objects: KubeObject[]): void;
  upserted(object: KubeObject): void;
  deleted(object: KubeObject): void;
  /** The resource cannot be seen right now; what was reported stays. */
  failed(error: Error): void;
}

export interface ReflectorSettings {
  pageSize: number;
  /** Asked of the server per watch (it closes the stream after this; we re-watch). */
  watchTimeoutSeconds: number;
  /** No event nor bookmark for this long: the connection is presumed dead. */
  watchSilenceMs: number;
  relistIntervalMs: number;
  backoff: { initialMs: number; maxMs: number };
}

export type ReflectorRestart = 'gone' | 'silent' | 'closed' | 'relist_due' | 'error';

export interface ReflectorObserver {
  listed?(objects: number): void;
  restarted?(reason: ReflectorRestart, error?: Error): void;
}

export interface ReflectorOptions {
  api: KubeApi;
  path: string;
  /** Extra list/watch parameters (a fieldSelector). */
  query?: Record<string, string>;
  clock: Clock;
  settings: ReflectorSettings;
  handler: ReflectorHandler;
  observer?: ReflectorObserver;
}

class RelistDue extends Error {}

function restartReason(error: Error): ReflectorRestart {
  if (error instanceof RelistDue) return 'relist_due';
  if (error instanceof KubeApiError && error.gone) return 'gone';
  if (error instanceof WatchSilentError) return 'silent';
  return 'error';
}

/** A watch closed sooner than this is followed by a pause of backoff.initialMs. */
const MIN_WATCH_MS = 1000;

export class Reflector {
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  private resourceVersion: string | undefined;
  private nextRelistAt = 0;
  private failures = 0;

  constructor(private readonly options: ReflectorOptions) {}

  start(): void {
    this.running ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping.abort(new Error('reflector stopped'));
    await this.running;
  }

  /** Why this reflector is not watching right now; undefined while it is. */
  get problem(): string | undefined {
    return this.failures > 0 ? `${this.failures} consecutive list/watch failure(s)` : undefined;
  }

  private async run(): Promise<void> {
    const signal = this.stopping.signal;
    while (!signal.aborted) {
      try {
        if (this.resourceVersion === undefined || this.options.clock.now() >= this.nextRelistAt) await this.list(signal);
        const opened = this.options.clock.now();
        await this.watch(signal);
        this.options.observer?.restarted?.('closed');
        // A server that closes every watch at once must not make us spin.
        if (this.options.clock.now() - opened < MIN_WATCH_MS) await sleep(this.options.clock, this.options.settings.backoff.initialMs, signal);
      } catch (error) {
        if (signal.aborted) return;
        await this.recover(error as Error, signal).catch(() => undefined);
      }
    }
  }

  private async recover(error: Error, signal: AbortSignal): Promise<void> {
    const reason = restartReason(error);
    this.options.observer?.restarted?.(reason, error);
    if (reason === 'silent') return; // re-watch from the last version
    // After 410 or a failure, list again, as client-go does (a watch from an old version may be refused anyway).
    this.resourceVersion = undefined;
    if (reason !== 'error') return;
    this.failures++;
    this.options.handler.failed(error);
    await sleep(this.options.clock, this.backoffMs(), signal);
  }

  private backoffMs(): number {
    const { initialMs, maxMs } = this.options.settings.backoff;
    const full = Math.min(maxMs, initialMs * 2 ** Math.min(30, this.failures - 1));
    // Jitter spreads a fleet's reconnects after an API server outage.
    return full / 2 + Math.random() * (full / 2);
  }

  private async list(signal: AbortSignal): Promise<void> {
    const items: KubeObject[] = [];
    let token: string | undefined;
    let version: string | undefined;
    do {
      const query: Record<string, string> = { ...this.options.query, limit: String(this.options.settings.pageSize) };
      if (token) query.continue = token;
      const page = await this.options.api.list(this.options.path, query, signal);
      items.push(...(page.items ?? []));
      token = page.metadata?.continue || undefined;
      version = page.metadata?.resourceVersion;
    } while (token);
    this.resourceVersion = version ?? '';
    this.nextRelistAt = this.options.clock.now() + this.options.settings.relistIntervalMs;
    this.failures = 0;
    this.options.observer?.listed?.(items.length);
    this.options.handler.replaced(items);
  }

  private async watch(outer: AbortSignal): Promise<void> {
    const { clock, settings } = this.options;
    const ctl = new AbortController();
    const onStop = (): void => ctl.abort(outer.reason);
    outer.addEventListener('abort', onStop, { once: true });
    let dog: TimerHandle | undefined;
    const feed = (): void => {
      if (dog) clock.clearTimeout(dog);
      dog = clock.setTimeout(() => ctl.abort(new WatchSilentError(settings.watchSilenceMs)), settings.watchSilenceMs);
    };
    const relist = clock.setTimeout(() => ctl.abort(new RelistDue()), Math.max(0, this.nextRelistAt - clock.now()));
    feed();
    const query = {
      ...this.options.query, resourceVersion: this.resourceVersion ?? '', allowWatchBookmarks: 'true',
      timeoutSeconds: String(settings.watchTimeoutSeconds),
    };
    try {
      await this.options.api.watch(this.options.path, query, (event) => {
        feed();
        this.apply(event);
      }, ctl.signal);
    } catch (error) {
      throw ctl.signal.aborted ? ctl.signal.reason as Error : error;
    } finally {
      outer.removeEventListener('abort', onStop);
      if (dog) clock.clearTimeout(dog);
      clock.clearTimeout(relist);
    }
  }

  private apply(event: WatchEvent): void {
    if (event.type === 'ERROR') throw watchStatusError(event.object);
    const version = event.object.metadata?.resourceVersion;
    if (version) this.resourceVersion = version;
    // A watch that delivers events is healthy again.
    this.failures = 0;
    if (event.type === 'ADDED' || event.type === 'MODIFIED') this.options.handler.upserted(event.object);
    else if (event.type === 'DELETED') this.options.handler.deleted(event.object);
  }
}
