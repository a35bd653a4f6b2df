/**
 * The file source: policies from one or more directories of YAML/JSON files, watched
 * and rescanned level-based, safe under GitOps writes (atomic renames, git-sync
 * symlink swaps, editor temp files), never pruning while a directory is unavailable.
 */
export { FileSource } from './source.js';
export { DEFAULT_MAX_FILE_BYTES } from './types.js';
export type { FileSourceOptions, FileSourceSettings, FileSourceObserver, FileSourceSettled } from './types.js';
export { PolicyDirectoryError, PolicyFileNotRegularError, PolicyFileTooLargeError, PolicyFileUnreadableError } from './errors.js';
export type { RejectReason } from './read.js';
export { isIgnoredName, isPolicyFileName } from './names.js';
