/**
 * The TypeScript side of the driver emulator: start/stop the emulated kernel daemon and
 * drive "the machine" around it (simulated file opens and process starts, load, faults,
 * reloads). The C side lives in src/ and builds into build/.
 */
export {
  assertEmulatorBuilt, emulatorPaths, emulatorStatus, startEmulatedKernel, stopEmulatedKernel,
  EMULATOR_DAEMON, EMULATOR_LIBRARY, EmulatorNotBuiltError,
  type EmulatedKernel, type EmulatedKernelOptions, type EmulatorStatus,
} from './kernel.js';
export {
  EmulatedMachine, readEmulatorLayout,
  type EmulatedDecision, type EmulatedProcess, type EmulatorLayout, type FileOpenOptions, type ProcessCreateOptions,
} from './machine.js';
