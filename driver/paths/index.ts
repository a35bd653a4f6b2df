/**
 * Path translation between what policies say (DOS paths) and what the driver matches
 * (NT device paths on Windows, posix paths on a posix-flavour emulator).
 */
export { DosPathTranslator, identityPaths, pathTranslatorFor, queryDriveMap, sameDriveMap, type DriveMap } from './translator.js';
