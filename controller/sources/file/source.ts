/**
 * FileSource: desired state from directories of YAML/JSON policy files (local or synced
 * by a GitOps tool). Level-based: file-system events only mark directories dirty; after
 * a debounce (controller/watch) the dirty subtrees are rescanned and compared with what was
 * reported, so any sequence of writes, renames and symlink swaps ends in the right set.
 * While a directory is unavailable the source reports `failed` and removes nothing; the
 * full rescan after recovery reconciles.
 *
 * fs.watch rather than chokidar: the scan is the truth, events are only triggers, so a
 * thin per-directory watch suffices; it lets the debounce run on the injected clock
 * (chokidar's own stabilisation timers cannot), and the symlink-swap case needs the
 * root's parent watched and each directory's identity tracked, which is done here anyway.
 */
import { readFile, stat } from 'node:fs/promises';
import type { AgentConfig } from '../../config/index.js';
import path from 'node:path';
import { Slicer, backoffDelay, realClock, type Clock, type TimerHandle } from '../../clock/index.js';
import { Debouncer, type DebounceTiming } from '../../watch/index.js';
import type { Logger } from '../../observability/log.js';
import { DEFAULT_MAX_FILE_BYTES, type FileSourceOptions, type FileSourceSettings, type FileSourceSettled } from './types.js';
import { SyncReporter } from './report.js';
import { silentLogger } from '../../observability/log-memory.js';
import type { PolicySource, PrepareProgress, SourceSink } from '../types.js';
import { PolicyDirectoryError } from './errors.js';
import { FileSet } from './fileset.js';
import { mapLimit } from './map-limit.js';
import { readPolicyFile, type ReadOutcome } from './read.js';
import { isIgnoredName } from './names.js';
import { isGone, scanPath, scanTree, type ScannedFile } from './scan.js';
import { DirectoryWatchers } from './watchers.js';

type Batch = 'all' | string[];

/**
 * Files read before they are handed to the preparer: large enough for the worker threads
 * to be worth starting (MIN_WORKER_BATCH), small enough that they start soon.
 */
const READ_GROUP = 128;
/** First retry of a read that failed for a passing reason (EMFILE…); doubles up to failureRetryMs. */
const TRANSIENT_RETRY_MS = 100;

/** The file source's part of the agent config. */
export function fileSettingsOf(config: AgentConfig): FileSourceSettings {
  const { paths, debounceMs, debounceMaxWaitMs, maxFileBytes, rescanIntervalSeconds } = config.sources.files;
  return { paths, debounceMs, debounceMaxWaitMs, maxFileBytes, rescanIntervalMs: rescanIntervalSeconds * 1000 };
}

export class FileSource implements PolicySource {
  readonly name: string;
  private roots: string[];
  private settings: Required<FileSourceSettings>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly files = new FileSet();
  private readonly watchers: DirectoryWatchers;
  private failures = new Map<string, Error>();
  private sink: SourceSink | undefined;
  private dirty = new Set<string>();
  private readonly debounce: Debouncer;
  private retry: TimerHandle | undefined;
  /** Files whose last read failed for a passing reason, with the error shown for each. */
  private readonly transient = new Map<string, string>();
  private transientRetry: TimerHandle | undefined;
  private transientAttempt = 0;
  private periodic: TimerHandle | undefined;
  private running: Promise<void> = Promise.resolve();
  private reporter: SyncReporter | undefined;
  private stopped = false;

  constructor(private readonly options: FileSourceOptions) {
    this.name = options.name ?? 'files';
    this.clock = options.clock ?? realClock;
    this.log = (options.logger ?? silentLogger).child({ source: this.name });
    this.settings = { paths: [], debounceMs: 200, debounceMaxWaitMs: 2000, maxFileBytes: DEFAULT_MAX_FILE_BYTES, rescanIntervalMs: 0 };
    this.roots = [];
    this.applySettings(options);
    this.debounce = new Debouncer(this.clock, this.timing(), () => {
      void this.schedule(this.failures.size > 0 ? 'all' : [...this.dirty]);
    });
    this.watchers = new DirectoryWatchers({
      touched: (dir) => this.touched(dir),
      watchFailed: (dir, error) => {
        options.observer?.watchFailed?.();
        this.log.error('cannot watch policy directory: changes there are seen only on rescans', { dir, error });
      },
    });
  }

  /** Scan everything and report; resolves after the first full scan (in sync, or failed). */
  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    this.reporter = new SyncReporter(this.name, sink, this.log);
    this.stopped = false;
    this.watchers.watchParents(this.roots);
    this.armPeriodic();
    await this.schedule('all');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.debounce.cancel();
    for (const t of [this.retry, this.periodic, this.transientRetry]) if (t) this.clock.clearTimeout(t);
    this.retry = this.periodic = this.transientRetry = undefined;
    await this.running;
    // After the last batch: a batch in flight may still place watchers.
    this.watchers.close();
  }

  /** Follow a new agent config (the registry's `configure` capability). */
  configure(config: AgentConfig): Promise<void> {
    return this.reconfigure(fileSettingsOf(config));
  }

  /** The current text of a policy file this source reports (admin `policy get`). */
  async readDocument(origin: string): Promise<string | undefined> {
    if (this.files.reportedDigest(origin) === undefined) return undefined;
    return readFile(origin, 'utf8').catch(() => undefined);
  }

  /** Live config change: new directories, debounce or size limit; rescans everything. */
  async reconfigure(settings: Partial<FileSourceSettings>): Promise<void> {
    this.applySettings(settings);
    this.debounce.retime(this.timing());
    if (!this.sink || this.stopped) return;
    this.watchers.watchParents(this.roots);
    this.armPeriodic();
    await this.schedule('all');
  }

  /** Rescan everything now (e.g. on SIGHUP); resolves when reported. */
  rescan(): Promise<void> {
    return this.schedule('all');
  }

  private applySettings(settings: Partial<FileSourceSettings>): void {
    this.settings = { ...this.settings, ...Object.fromEntries(Object.entries(settings).filter(([, v]) => v !== undefined)) };
    this.roots = [...new Set(this.settings.paths.map((p) => path.resolve(p)))];
  }

  private timing(): DebounceTiming {
    return { quietMs: this.settings.debounceMs, maxWaitMs: this.settings.debounceMaxWaitMs };
  }

  private touched(entry: string): void {
    if (this.stopped) return;
    // A hidden entry is never a policy, but renaming one can change what the visible
    // symlinks resolve to (kubelet's atomic `..data` swap): look at its directory again.
    this.dirty.add(isIgnoredName(path.basename(entry)) ? path.dirname(entry) : entry);
    this.debounce.touch();
  }

  private schedule(batch: Batch): Promise<void> {
    this.dirty = new Set();
    this.running = this.running.then(() => this.runBatch(batch)).catch((error: unknown) => {
      this.log.error('policy directory scan failed unexpectedly', { error });
    });
    return this.running;
  }

  private rootOf(dir: string): string | undefined {
    return this.roots.filter((r) => dir === r || dir.startsWith(r + path.sep)).sort((a, b) => b.length - a.length)[0];
  }

  /** What to rescan: all roots, or the dirty entries without those inside another dirty one. */
  private scopes(batch: Batch): string[] {
    if (batch === 'all') return [...this.roots];
    const inRoots = batch.filter((d) => this.rootOf(d) !== undefined);
    return inRoots.filter((d) => !inRoots.some((o) => o !== d && d.startsWith(o + path.sep)));
  }

  private async runBatch(batch: Batch): Promise<void> {
    if (this.stopped || !this.sink) return;
    const seen = new Map<string, ScannedFile>();
    const scanned: string[] = [];
    for (const scope of this.scopes(batch)) await this.scanScope(scope, seen, scanned);
    const result = await this.applyContent(seen);
    result.removed = this.removeMissing(new Set(seen.keys()), batch === 'all' ? this.roots : scanned);
    if (!this.stopped) this.report(result);
    this.armTransientRetry();
  }

  /** Scan one root, or one entry below a root (a vanished entry is scanned as empty: its files are gone). */
  private async scanScope(scope: string, seen: Map<string, ScannedFile>, scanned: string[]): Promise<void> {
    const root = this.rootOf(scope)!;
    const visit = (dir: string, identity: string) => this.watchers.ensure(dir, identity);
    try {
      const tree = await (scope === root ? scanTree(root, visit) : scanPath(scope, visit));
      for (const f of tree.files) seen.set(f.origin, f);
      this.watchers.prune(scope, new Set(tree.dirs.map((d) => d.dir)));
      scanned.push(scope);
      // Failures at or below the scope are replaced by what this scan found: an unreadable
      // subdirectory is its own failure, named, and the rest of the tree moves on.
      for (const failed of [...this.failures.keys()]) if (isWithin(failed, scope)) this.failures.delete(failed);
      for (const { entry, error } of tree.unreadable) this.failures.set(entry, error);
    } catch (error) {
      // Gone below a root that is still there: a deletion. The root itself gone: an outage.
      const rootThere = scope !== root && (await isDirectory(root));
      if (rootThere && isGone(error)) {
        this.watchers.prune(scope, new Set());
        scanned.push(scope);
        return;
      }
      // An entry below the root that cannot be read fails alone, named; the root, everything.
      const failed = rootThere ? scope : root;
      this.failures.set(failed, error as Error);
      this.watchers.prune(failed, new Set());
    }
  }

  private async applyContent(seen: Map<string, ScannedFile>): Promise<FileSourceSettled> {
    const result: FileSourceSettled = { inSync: false, revision: '', upserted: [], removed: [], rejected: [] };
    const toRead = [...seen.values()].filter((f) => !this.files.unchanged(f.origin, f.signature)).sort((a, b) => (a.origin < b.origin ? -1 : 1));
    // Read in groups, each handed to the sink's preparer (worker threads) as soon as it is
    // read: the workers parse the first files while the next ones are read, and each file
    // is upserted once prepared, so merging overlaps with preparing the rest.
    const groups: { files: ScannedFile[]; outcomes: ReadOutcome[]; progress?: PrepareProgress; index: Map<string, number> }[] = [];
    for (let at = 0; at < toRead.length; at += READ_GROUP) {
      const files = toRead.slice(at, at + READ_GROUP);
      const outcomes = await mapLimit(files, 32, (f) => readPolicyFile(f, this.settings.maxFileBytes));
      const texts = files.flatMap((f, i) => {
        const o = outcomes[i]!;
        return o.kind === 'content' && this.files.reportedDigest(f.origin) !== o.digest ? [{ origin: f.origin, text: o.text, location: f.origin }] : [];
      });
      const progress = texts.length > 0 ? this.sink?.prepare?.(this.name, texts) : undefined;
      groups.push({ files, outcomes, progress, index: new Map(texts.map((t, i) => [t.origin, i])) });
    }
    // Each upsert hydrates and compiles one file: a thousand of them in one synchronous
    // loop would hold the event loop for a long time, so yield every few ms.
    const slicer = new Slicer(1);
    for (const { files, outcomes, progress, index } of groups) {
      for (let i = 0; i < files.length; i++) {
        const k = index.get(files[i]!.origin);
        if (progress && k !== undefined) await progress.ready(k);
        this.applyOne(files[i]!, outcomes[i]!, seen, result);
        if (slicer.due()) await slicer.yield();
      }
    }
    return result;
  }

  private applyOne(file: ScannedFile, outcome: ReadOutcome, seen: Map<string, ScannedFile>, result: FileSourceSettled): void {
    const shownTransient = this.transient.get(file.origin);
    this.transient.delete(file.origin);
    if (outcome.kind === 'gone') {
      seen.delete(file.origin);
      return;
    }
    if (outcome.kind === 'rejected' && outcome.reason === 'transient') return this.failedForNow(file, outcome.error, shownTransient, result);
    if (outcome.kind === 'rejected') {
      this.files.record(file.origin, file.signature);
      result.rejected.push(file.origin);
      this.options.observer?.rejected?.(outcome.reason);
      // The store logs it (for every source alike) and keeps its previous version in force.
      this.sink?.rejected(this.name, file.origin, outcome.error);
      return;
    }
    // After a passing failure the sink holds a rejection: the same text must be reported again to clear it.
    const changed = shownTransient !== undefined || this.files.reportedDigest(file.origin) !== outcome.digest;
    this.files.record(file.origin, file.signature, outcome.digest);
    if (!changed) return;
    result.upserted.push(file.origin);
    this.sink?.upsert(this.name, { origin: file.origin, text: outcome.text, location: file.origin });
  }

  /**
   * A read that failed for a passing reason: the file is not recorded as seen (so it is read
   * again), shown rejected once per distinct error (its previous version stays), counted
   * each time, and retried with backoff after the batch.
   */
  private failedForNow(file: ScannedFile, error: Error, shown: string | undefined, result: FileSourceSettled): void {
    result.rejected.push(file.origin);
    this.options.observer?.rejected?.('transient');
    this.transient.set(file.origin, error.message);
    if (shown !== error.message) this.sink?.rejected(this.name, file.origin, error);
  }

  /** Read the files that failed for a passing reason again, later each time while they keep failing. */
  private armTransientRetry(): void {
    if (this.transient.size === 0) {
      this.transientAttempt = 0;
      return;
    }
    if (this.transientRetry || this.stopped) return;
    const delay = backoffDelay(this.transientAttempt++, TRANSIENT_RETRY_MS, this.options.failureRetryMs ?? 5000);
    this.transientRetry = this.clock.setTimeout(() => {
      this.transientRetry = undefined;
      for (const origin of this.transient.keys()) this.dirty.add(origin);
      void this.schedule(this.failures.size > 0 ? 'all' : [...this.dirty]);
    }, delay);
  }

  /** Report files gone from `scopes`, except under a failed (unavailable or unreadable) directory. */
  private removeMissing(seen: ReadonlySet<string>, scopes: readonly string[]): string[] {
    const removed: string[] = [];
    const failed = [...this.failures.keys()];
    for (const origin of this.files.missing(seen, scopes, this.roots)) {
      if (failed.some((dir) => isWithin(origin, dir))) continue;
      if (!this.files.forget(origin)) continue;
      removed.push(origin);
      this.sink?.remove(this.name, origin);
    }
    return removed;
  }

  private report(result: FileSourceSettled): void {
    result.revision = this.files.revision();
    if (this.failures.size > 0) {
      result.error = new PolicyDirectoryError(this.failures);
      this.reporter!.failed(result.error);
      this.armRetry();
    } else {
      result.inSync = true;
      this.reporter!.synced(result.revision);
    }
    this.options.observer?.settled?.(result);
  }

  /** The backstop for changes no event announced (a lost inotify event, a remote file system). */
  private armPeriodic(): void {
    if (this.periodic) this.clock.clearTimeout(this.periodic);
    this.periodic = undefined;
    if (this.stopped || !this.settings.rescanIntervalMs) return;
    this.periodic = this.clock.setTimeout(() => {
      this.periodic = undefined;
      void this.schedule('all').finally(() => this.armPeriodic());
    }, this.settings.rescanIntervalMs);
  }

  private armRetry(): void {
    if (this.retry || this.stopped) return;
    this.retry = this.clock.setTimeout(() => {
      this.retry = undefined;
      void this.schedule('all');
    }, this.options.failureRetryMs ?? 5000);
  }
}

function isWithin(entry: string, dir: string): boolean {
  return entry === dir || entry.startsWith(dir + path.sep);
}

async function isDirectory(dir: string): Promise<boolean> {
  return stat(dir).then((s) => s.isDirectory(), () => false);
}
