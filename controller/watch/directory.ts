import { watch, type FSWatcher } from 'node:fs';

/** A child of the watched directory changed (`name`), or the directory itself (`null`). */
export type DirectoryEvent = (name: string | null) => void;

/**
 * One non-recursive fs.watch on `dir`. A watch error (the directory vanished, on some
 * platforms) is reported as an event on the directory itself: the caller looks again and
 * its re-read sorts it out. Throws what fs.watch throws (ENOENT, the inotify limit).
 */
export function watchDirectory(dir: string, onEvent: DirectoryEvent): FSWatcher {
  const watcher = watch(dir, (_type, name) => onEvent(name === null ? null : String(name)));
  watcher.on('error', () => onEvent(null));
  return watcher;
}
