/**
 * Test fixture: a fresh emulated kernel in its own temp dir, the binding loaded from the
 * emulator's shim, and DriverClients against it. Pass the test context to have it all
 * stopped and removed after the test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { DriverClient, type DriverClientOptions } from '../driver/client/index.js';
import { startEmulatedKernel, stopEmulatedKernel, type EmulatedKernelOptions, type EmulatedMachine } from '../driver/emulator/index.js';
import { loadBinding, type Win32Binding } from '../driver/win32/index.js';

export interface EmulatorFixture {
  dir: string;
  device: string;
  port: string;
  library: string;
  machine: EmulatedMachine;
  binding: Win32Binding;
  /** A DriverClient on this emulator (closed by stop()). */
  client(options?: Omit<DriverClientOptions, 'binding' | 'device' | 'port'>): Promise<DriverClient>;
  stop(): Promise<void>;
}

export type EmulatorFixtureOptions = Omit<EmulatedKernelOptions, 'dir' | 'daemonize'>;

export async function startEmulator(t?: Pick<TestContext, 'after'>, options: EmulatorFixtureOptions = {}): Promise<EmulatorFixture> {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-emu-'));
  const kernel = await startEmulatedKernel({ log: join(dir, 'driverd.log'), ...options, dir });
  const binding = loadBinding({ library: kernel.library });
  const clients: DriverClient[] = [];
  let stopped = false;
  const fixture: EmulatorFixture = {
    dir, device: kernel.device, port: kernel.port, library: kernel.library, machine: kernel.machine, binding,
    async client(extra = {}) {
      const c = await DriverClient.open({ ...extra, binding, device: kernel.device, port: kernel.port });
      clients.push(c);
      return c;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await Promise.all(clients.map((c) => c.close()));
      await stopEmulatedKernel(dir);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  t?.after(() => fixture.stop());
  return fixture;
}
