/**
 * A driver backend: what stands behind the driver boundary on this node — the Windows
 * minifilter through kernel32/fltlib, or the emulator through its shim — and everything
 * that differs between them: loading, the Win32 library, path flavour and the node
 * environment policies expand. Above this, every backend is the same `Driver`.
 */
import type { Flavor } from '../abi/types.js';
import type { DriverClient, DriverClientOptions } from '../client/index.js';

export interface EmulatorSettings {
  /** The shim library (libkawin_emu.so); absent: the emulator's built-in location. */
  library?: string;
  /** The emulated kernel executable; absent: the emulator's built-in location. */
  daemon?: string;
  /** Where the emulated kernel keeps its sockets. */
  dir: string;
  flavor: 'windows' | 'posix';
  /** DOS drive → NT device (`"C:": "\\Device\\HarddiskVolume3"`). */
  drives: Record<string, string>;
  ringCapacity: number;
}

export interface DriverSettings {
  /** A registered backend kind (driver/backends/index.ts). */
  kind: string;
  /** `\\.\Karmor` on Windows; the device socket path with the emulator. */
  device: string;
  port: string;
  emulator: EmulatorSettings;
}

/** What `load` did, for the log. */
export interface LoadOutcome {
  loaded: boolean;
  detail?: Record<string, string>;
}

export type OpenOptions = Omit<DriverClientOptions, 'binding' | 'device' | 'port'>;

export interface DriverBackend {
  readonly kind: string;
  /** The path flavour policies compile for (the connected driver confirms it in GET_STATE). */
  readonly flavor: Flavor;
  /** Variables policies may expand (`%SystemRoot%`): the node's own on Windows, none elsewhere. */
  environment(): Record<string, string> | undefined;
  /** Make the driver reachable where the backend can (the emulator starts its kernel); idempotent. */
  load(): Promise<LoadOutcome>;
  /** Connect to the driver: typed errors (DriverNotLoadedError, …) when it cannot. */
  open(options: OpenOptions): Promise<DriverClient>;
}

/** One registered backend kind: one folder under driver/backends plus one line in index.ts. */
export interface DriverBackendDefinition {
  kind: string;
  create(settings: DriverSettings): DriverBackend;
}
