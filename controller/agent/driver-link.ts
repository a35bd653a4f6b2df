/**
 * The agent's connection to the driver, through the configured backend (driver/backends).
 * Connecting is part of every reconcile (level-based): no driver means "not ready, retry
 * with backoff". Where the backend can load the driver (the emulator), it is loaded
 * first, as the agent would FilterLoad the minifilter; the driver then outlives the agent.
 */
import { DriverNotLoadedError, Flavor, StaleHandleError } from '../../driver/index.js';
import type { DriverBackend } from '../../driver/backends/index.js';
import type { Driver, DriverObserver, Timers } from '../../driver/client/types.js';
import type { Logger } from '../observability/index.js';

/**
 * The agent lists the whole table at every read-back, a page per IOCTL (off the main
 * thread). The main thread checks each page's records in one turn as it arrives: 2 MiB
 * pages (~12k rules) keep that turn to a few ms, where 8 MiB ones (~50k) held it for
 * tens; 100k rules take about nine IOCTLs.
 */
export const LIST_BUFFER_BYTES = 2 * 1024 * 1024;

export interface DriverLinkOptions {
  backend: DriverBackend;
  logger: Logger;
  observer: DriverObserver;
  /** The event stream's timers (reconnect backoff): the agent's clock. */
  timers?: Timers;
  /** A new connection (after start or after loss): its table must be read back. */
  connected(driver: Driver): void;
  disconnected(): void;
}

export class DriverLink {
  private client: Driver | undefined;
  private connecting: Promise<Driver> | undefined;
  private readonly waiters = new Set<(driver: Driver | undefined) => void>();

  constructor(private readonly options: DriverLinkOptions) {}

  get current(): Driver | undefined { return this.client; }
  get kind(): string { return this.options.backend.kind; }

  /** The connected driver, connecting (and loading it where the backend can) first if needed. */
  async ensure(): Promise<Driver> {
    if (this.client) return this.client;
    this.connecting ??= this.connect().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  /** The next driver connection (undefined if `signal` aborts or the link closes first). */
  next(signal: AbortSignal): Promise<Driver | undefined> {
    return new Promise((resolve) => {
      if (signal.aborted) return resolve(undefined);
      const done = (driver: Driver | undefined): void => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', onAbort);
        resolve(driver);
      };
      const onAbort = (): void => done(undefined);
      this.waiters.add(done);
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** A failed call: if it means the driver is gone, drop the connection so the next pass reconnects. */
  async failed(error: unknown): Promise<void> {
    if (!(error instanceof DriverNotLoadedError) && !(error instanceof StaleHandleError)) return;
    await this.drop();
  }

  async close(): Promise<void> {
    await this.drop();
    for (const waiter of [...this.waiters]) waiter(undefined);
  }

  private async drop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.options.disconnected();
    await client.close();
  }

  private async connect(): Promise<Driver> {
    const { backend, logger, observer, timers } = this.options;
    const loaded = await backend.load();
    if (loaded.loaded) logger.info('driver loaded', { backend: backend.kind, ...loaded.detail });
    // Every IOCTL on the IOCTL thread once a large table started it: the event loop never waits
    // on the driver (bench:reconcile: the stalls during one change went from 29–45 ms to 16–19 ms
    // on the emulator), and an agent with a small table starts no thread.
    const client = await backend.open({ observer, timers, listing: { initialBufferBytes: LIST_BUFFER_BYTES }, ioctlThread: 'all-once-started' });
    this.client = client;
    logger.info('driver connected', { backend: backend.kind, flavor: Flavor[client.flavor]?.toLowerCase() });
    this.options.connected(client);
    for (const waiter of [...this.waiters]) waiter(client);
    return client;
  }
}
