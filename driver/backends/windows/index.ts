/**
 * The Windows backend: the kawin minifilter through kernel32.dll and fltlib.dll. The
 * driver is loaded by its service (installed with the MSI's driver feature), not by the
 * agent: a missing driver is reported as not loaded and retried.
 */
import { Flavor } from '../../abi/types.js';
import { DriverClient } from '../../client/index.js';
import { loadBinding, type Win32Binding } from '../../win32/index.js';
import type { DriverBackend, DriverBackendDefinition, DriverSettings, LoadOutcome, OpenOptions } from '../types.js';

class WindowsBackend implements DriverBackend {
  readonly kind = 'windows';
  readonly flavor = Flavor.Windows;
  private binding: Win32Binding | undefined;

  constructor(private readonly settings: DriverSettings) {}

  /** On a real Windows node the variables policies may use are the node's own. */
  environment(): Record<string, string> | undefined {
    if (process.platform !== 'win32') return undefined;
    return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
  }

  load(): Promise<LoadOutcome> { return Promise.resolve({ loaded: false }); }

  open(options: OpenOptions): Promise<DriverClient> {
    this.binding ??= loadBinding({});
    return DriverClient.open({ ...options, binding: this.binding, device: this.settings.device, port: this.settings.port });
  }
}

export const windowsBackend: DriverBackendDefinition = {
  kind: 'windows',
  create: (settings) => new WindowsBackend(settings),
};
