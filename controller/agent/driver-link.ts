/**
 * The agent's connection to the driver. Connecting is part of every reconcile (level-
 * based): no driver means "not ready, retry with backoff". With the emulator, the agent
 * loads the driver when it is not loaded, as it would FilterLoad the minifilter on
 * Windows; the emulated kernel then outlives the agent.
 */
import { mkdir } from 'node:fs/promises';
import {
  DriverClient, DriverNotLoadedError, StaleHandleError, emulatorStatus, loadBinding, startEmulatedKernel,
  type Win32Binding,
} from '../../driver/index.js';
import type { Driver, DriverObserver } from '../../driver/client/types.js';
import { EMULATOR_LIBRARY } from '../../driver/emulator/kernel.js';
import type { AgentConfig } from '../config/index.js';
import type { Logger } from '../observability/index.js';

/**
 * The agent lists the whole table at every read-back: start with pages large enough for
 * ~80k rules, so 100k rules take two IOCTLs rather than thirty (the client grows it).
 */
export const LIST_BUFFER_BYTES = 8 * 1024 * 1024;

export interface DriverLinkOptions {
  config: () => AgentConfig;
  logger: Logger;
  observer: DriverObserver;
  /** A new connection (after start or after loss): its table must be read back. */
  connected(driver: Driver): void;
  disconnected(): void;
}

export class DriverLink {
  private client: DriverClient | undefined;
  private binding: Win32Binding | undefined;
  private connecting: Promise<Driver> | undefined;

  constructor(private readonly options: DriverLinkOptions) {}

  get current(): Driver | undefined { return this.client; }

  /** The connected driver, connecting (and loading the emulator) first if needed. */
  async ensure(): Promise<Driver> {
    if (this.client) return this.client;
    this.connecting ??= this.connect().finally(() => { this.connecting = undefined; });
    return this.connecting;
  }

  /** A failed call: if it means the driver is gone, drop the connection so the next pass reconnects. */
  async failed(error: unknown): Promise<void> {
    if (!(error instanceof DriverNotLoadedError) && !(error instanceof StaleHandleError)) return;
    await this.drop();
  }

  async close(): Promise<void> {
    await this.drop();
  }

  private async drop(): Promise<void> {
    const client = this.client;
    if (!client) return;
    this.client = undefined;
    this.options.disconnected();
    await client.close();
  }

  private async connect(): Promise<Driver> {
    const config = this.options.config();
    const { driver } = config;
    if (driver.kind === 'emulator') await this.loadEmulator(config);
    this.binding ??= loadBinding(driver.kind === 'emulator' ? { library: driver.emulator.library ?? EMULATOR_LIBRARY } : {});
    const client = await DriverClient.open({
      binding: this.binding, device: driver.device, port: driver.port, observer: this.options.observer,
      listing: { initialBufferBytes: LIST_BUFFER_BYTES },
    });
    this.client = client;
    this.options.logger.info('driver connected', { device: driver.device, flavor: client.flavor === 1 ? 'windows' : 'posix' });
    this.options.connected(client);
    return client;
  }

  private async loadEmulator(config: AgentConfig): Promise<void> {
    const emu = config.driver.emulator;
    if (emulatorStatus(emu.dir).running) return;
    this.options.logger.info('loading the emulated driver', { dir: emu.dir, flavor: emu.flavor });
    await mkdir(emu.dir, { recursive: true });
    await startEmulatedKernel({
      dir: emu.dir, flavor: emu.flavor, drives: emu.drives, ringCapacity: emu.ringCapacity, daemonize: true,
    });
  }
}
