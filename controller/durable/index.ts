/**
 * Durable files in the state directory: written atomically (temp file, fsync, rename,
 * fsync of the directory) with explicit modes, so a crash leaves the old or the new
 * version, never half; and a failed write (a full disk) removes its temp file at once.
 */
export { writeFileAtomic, TMP_PREFIX } from './write.js';
