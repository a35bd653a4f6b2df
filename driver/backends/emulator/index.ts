/**
 * The emulator backend: the emulated kernel (a daemon that outlives the agent, as a
 * loaded driver does) reached through its Win32 shim. Loading starts the daemon when it
 * is not running, as the agent would FilterLoad the minifilter on Windows.
 */
import { mkdir } from 'node:fs/promises';
import { Flavor } from '../../abi/types.js';
import { DriverClient } from '../../client/index.js';
import { EMULATOR_LIBRARY, emulatorStatus, startEmulatedKernel } from '../../emulator/index.js';
import { loadBinding, type Win32Binding } from '../../win32/index.js';
import type { DriverBackend, DriverBackendDefinition, DriverSettings, LoadOutcome, OpenOptions } from '../types.js';

class EmulatorBackend implements DriverBackend {
  readonly kind = 'emulator';
  readonly flavor: Flavor;
  private binding: Win32Binding | undefined;

  constructor(private readonly settings: DriverSettings) {
    this.flavor = settings.emulator.flavor === 'posix' ? Flavor.Posix : Flavor.Windows;
  }

  environment(): undefined { return undefined; }

  async load(): Promise<LoadOutcome> {
    const emu = this.settings.emulator;
    if (emulatorStatus(emu.dir).running) return { loaded: false };
    await mkdir(emu.dir, { recursive: true, mode: 0o700 });
    await startEmulatedKernel({
      dir: emu.dir, flavor: emu.flavor, drives: emu.drives, ringCapacity: emu.ringCapacity, daemonize: true,
      ...(emu.daemon ? { daemon: emu.daemon } : {}),
    });
    return { loaded: true, detail: { dir: emu.dir, flavor: emu.flavor } };
  }

  open(options: OpenOptions): Promise<DriverClient> {
    this.binding ??= loadBinding({ library: this.settings.emulator.library ?? EMULATOR_LIBRARY });
    return DriverClient.open({ ...options, binding: this.binding, device: this.settings.device, port: this.settings.port });
  }
}

export const emulatorBackend: DriverBackendDefinition = {
  kind: 'emulator',
  create: (settings) => new EmulatorBackend(settings),
};
