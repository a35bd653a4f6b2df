/**
 * The driver boundary: the ABI (types and codec), the koffi binding, the typed
 * DriverClient, path translation and the emulator that stands in for the minifilter.
 */
export * from './abi/types.js';
export {
  AbiDecodeError, AbiEncodeError, decodeEventMessage, encodeEventMessage, filetimeToDate, filetimeToUnixMs,
  unixMsToFiletime, FILETIME_UNIX_EPOCH, layout, type EventMessage,
} from './abi/codec.js';
export * from './client/index.js';
export { loadBinding, type BindingSpec, type Win32Binding } from './win32/index.js';
export { DosPathTranslator, identityPaths, pathTranslatorFor, queryDriveMap, type DriveMap } from './client/index.js';
export {
  EmulatedMachine, startEmulatedKernel, stopEmulatedKernel, emulatorStatus, EmulatorNotBuiltError,
  type EmulatedKernel, type EmulatedKernelOptions, type EmulatedDecision, type EmulatedProcess,
} from './emulator/index.js';
