/**
 * One non-recursive fs.watch per directory of the tree, plus one on each root's parent
 * so that a root replaced by a symlink swap (git-sync: `root -> .git-sync/rev2`) or
 * created later is noticed. Events carry no truth: they only say "look at this
 * directory again"; the scan decides what changed.
 */
import type { FSWatcher } from 'node:fs';
import path from 'node:path';
import { watchDirectory, type DirectoryEvent } from '../../watch/index.js';

interface Watched {
  watcher: FSWatcher;
  /** device:inode at watch time: a different one means the directory was replaced or swapped. */
  identity: string;
}

export interface WatchEvents {
  /** Something changed at `entry`: a named child of a watched directory, the directory itself, or a root (via its parent). */
  touched(entry: string): void;
  /** fs.watch could not be set up (e.g. inotify watch limit); changes there are only seen by rescans. */
  watchFailed(dir: string, error: Error): void;
}

export class DirectoryWatchers {
  private readonly dirs = new Map<string, Watched>();
  private readonly parents = new Map<string, FSWatcher>();

  constructor(private readonly events: WatchEvents) {}

  /** Watch `dir` (currently the directory `identity`); a watch on a replaced directory is renewed. */
  ensure(dir: string, identity: string): void {
    const existing = this.dirs.get(dir);
    if (existing?.identity === identity) return;
    existing?.watcher.close();
    this.dirs.delete(dir);
    const watcher = this.open(dir, (name) => this.events.touched(name === null ? dir : path.join(dir, name)));
    if (watcher) this.dirs.set(dir, { watcher, identity });
  }

  /** Stop watching directories at or under `scope` that are not in `keep`. */
  prune(scope: string, keep: ReadonlySet<string>): void {
    for (const [dir, w] of this.dirs) {
      if (keep.has(dir) || !(dir === scope || dir.startsWith(scope + path.sep))) continue;
      w.watcher.close();
      this.dirs.delete(dir);
    }
  }

  /** Watch the parent of each root for the root's own replacement or creation. */
  watchParents(roots: readonly string[]): void {
    const wanted = new Set(roots.map((r) => path.dirname(r)));
    for (const [parent, w] of this.parents) {
      if (!wanted.has(parent)) {
        w.close();
        this.parents.delete(parent);
      }
    }
    for (const parent of wanted) {
      if (this.parents.has(parent)) continue;
      const children = roots.filter((r) => path.dirname(r) === parent);
      const watcher = this.open(parent, (name) => {
        for (const root of children) if (name === null || name === path.basename(root)) this.events.touched(root);
      });
      if (watcher) this.parents.set(parent, watcher);
    }
  }

  get count(): number {
    return this.dirs.size + this.parents.size;
  }

  close(): void {
    for (const w of this.dirs.values()) w.watcher.close();
    for (const w of this.parents.values()) w.close();
    this.dirs.clear();
    this.parents.clear();
  }

  private open(dir: string, onEvent: DirectoryEvent): FSWatcher | undefined {
    try {
      return watchDirectory(dir, onEvent);
    } catch (error) {
      // A missing parent is normal (the root's parent may not exist yet); the retry timer covers it.
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.events.watchFailed(dir, error as Error);
      return undefined;
    }
  }
}
