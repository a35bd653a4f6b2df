/**
 * Driver backends by kind. A new backend is a folder here exporting a
 * DriverBackendDefinition, plus one line in BACKENDS (and its name in the config
 * schema's `driver.kind` enum, which a test keeps equal to this list).
 */
import { emulatorBackend } from './emulator/index.js';
import type { DriverBackend, DriverBackendDefinition, DriverSettings } from './types.js';
import { windowsBackend } from './windows/index.js';

const BACKENDS: readonly DriverBackendDefinition[] = [
  windowsBackend,
  emulatorBackend,
];

export const DRIVER_KINDS: readonly string[] = BACKENDS.map((b) => b.kind);

export function createDriverBackend(settings: DriverSettings): DriverBackend {
  const definition = BACKENDS.find((b) => b.kind === settings.kind);
  if (!definition) throw new Error(`unknown driver kind "${settings.kind}" (known: ${DRIVER_KINDS.join(', ')})`);
  return definition.create(settings);
}

export type * from './types.js';
