/**
 * What was last applied, per policy, kept in the state directory so that last-known-good
 * survives a restart: a policy file that is unreadable or invalid when the agent starts
 * keeps the version the driver enforced before. Everything is 0600 in a 0700 directory.
 *
 * Two files:
 * - `last-applied.json`, the snapshot: a header line `{"version":2,"checksum":…,"count":n}`,
 *   then one policy per line; the checksum covers the policy lines (each followed by a
 *   newline). A snapshot that does not verify is ignored (and said so in the log), never
 *   half-used. Format 1 (one JSON document) is still read.
 * - `last-applied.journal`, the changes since: a first line naming the snapshot it
 *   follows (its checksum), then one line per change, `{"checksum":…,"set":{policy}}` or
 *   `{"checksum":…,"delete":key}`, each with its own checksum. One changed policy appends
 *   one line (kilobytes, one fsync) instead of rewriting the snapshot of every policy
 *   (megabytes at a thousand policies, which took most of a change's time). Replay stops at
 *   the first line that does not verify (a write cut short by a crash); a journal written
 *   after another snapshot is ignored. Once the journal outgrows the snapshot it is folded
 *   into a new snapshot.
 *
 * Nothing is written when what is in force equals what is on disk (an idle resync, a
 * restart with nothing changed). Reading and writing go in slices with a yield between
 * them, so the event loop never waits for a whole file.
 */
import { createHash, type Hash } from 'node:crypto';
import { appendFile, open, readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { Slicer } from '../clock/index.js';
import { writeFileAtomic } from '../durable/index.js';
import type { Logger } from '../observability/log.js';

/** One policy as last applied: the text of the unit it came from at the time. */
export interface AppliedPolicy {
  key: string;
  source: string;
  origin: string;
  location: string;
  text: string;
}

const FILE = 'last-applied.json';
/** How a format 1 snapshot begins. */
const V1_PREFIX = Buffer.from('{"version":1,');
const NEWLINE = 0x0a;
const JOURNAL = 'last-applied.journal';
const VERSION = 2;
/**
 * Runs `step` over `items` from a turn of its own, yielding to the event loop every
 * SLICE_MS (../clock/slicer.ts): a snapshot queued by the turn that applied the rules (the
 * first apply) starts after that turn instead of adding its first slice to it.
 */
async function sliced<T>(items: readonly T[], step: (item: T, index: number) => void): Promise<void> {
  const slicer = new Slicer(1);
  await slicer.yield();
  for (let i = 0; i < items.length; i++) {
    step(items[i]!, i);
    if (slicer.due()) await slicer.yield();
  }
}

export class LastAppliedFile {
  /** What is on disk (snapshot and journal, as loaded or last written), by key; undefined: unknown, the next save writes a snapshot. */
  private onDisk: Map<string, AppliedPolicy> | undefined;
  /** The snapshot the journal follows, and the bytes of each. */
  private snapshot = { checksum: '', bytes: 0 };
  private journalBytes = 0;

  constructor(private readonly stateDir: string, private readonly log: Logger) {}

  get path(): string {
    return join(this.stateDir, FILE);
  }

  /** The policies last applied, or none when there is no snapshot or it does not verify. */
  async load(): Promise<AppliedPolicy[]> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('cannot read the last-applied policies: last-known-good starts empty', { file: this.path, error: (error as Error).message });
      return [];
    }
    let snapshot: { policies: AppliedPolicy[]; checksum: string; length: number };
    try {
      snapshot = bytes.subarray(0, V1_PREFIX.length).equals(V1_PREFIX) ? verifiedV1(bytes.toString('utf8')) : await verified(bytes);
    } catch (error) {
      this.log.error('last-applied policies ignored: the file does not verify', { file: this.path, error: (error as Error).message });
      return [];
    }
    const { policies, checksum } = snapshot;
    const byKey = new Map(policies.map((p) => [p.key, p]));
    this.snapshot = { checksum, bytes: snapshot.length };
    this.journalBytes = await this.replay(byKey, checksum);
    this.onDisk = byKey;
    return [...byKey.values()];
  }

  /** Persist `policies` when they differ from what is on disk: the changes appended to the journal, or a new snapshot. */
  async save(policies: readonly AppliedPolicy[]): Promise<void> {
    const onDisk = this.onDisk;
    const changes = onDisk ? changesFrom(onDisk, policies) : undefined;
    if (changes && changes.length === 0) return;
    const lines = changes?.map(journalLine);
    if (lines && this.journalBytes === 0) lines.unshift(`${JSON.stringify({ follows: this.snapshot.checksum })}\n`);
    const appended = lines?.join('') ?? '';
    if (!onDisk || this.journalBytes + appended.length > Math.max(this.snapshot.bytes, MIN_JOURNAL_FOLD_BYTES)) {
      await this.writeSnapshot(policies);
    } else {
      await appendDurably(this.stateDir, JOURNAL, appended);
      this.journalBytes += appended.length;
    }
    this.onDisk = new Map(policies.map((p) => [p.key, p]));
  }

  /** A new snapshot of every policy; the journal it replaces is removed. */
  private async writeSnapshot(policies: readonly AppliedPolicy[]): Promise<void> {
    // Each line is encoded within the slices: one conversion of the whole text (6 MB for a
    // thousand policies) to UTF-8 held the event loop for 10-20 ms.
    const lines: Buffer[] = [];
    const digest = createHash('sha256');
    let length = 0;
    await sliced(policies, (p) => {
      const line = `${JSON.stringify(applied(p))}\n`;
      const bytes = Buffer.from(line);
      digest.update(bytes);
      lines.push(bytes);
      length += line.length;
    });
    const checksum = `sha256:${digest.digest('hex')}`;
    const header = `${JSON.stringify({ version: VERSION, checksum, count: policies.length })}\n`;
    lines.unshift(Buffer.from(header));
    await writeFileAtomic(this.stateDir, FILE, Buffer.concat(lines));
    // The old journal follows the old snapshot: replay would ignore it; removed so it is not read at all.
    await unlink(join(this.stateDir, JOURNAL)).catch(() => undefined);
    this.snapshot = { checksum, bytes: header.length + length };
    this.journalBytes = 0;
  }

  /** Applies the journal's changes to `byKey`; returns its length (0: none; MUST_FOLD: nothing may be appended to it). */
  private async replay(byKey: Map<string, AppliedPolicy>, checksum: string): Promise<number> {
    let raw: string;
    try {
      raw = await readFile(join(this.stateDir, JOURNAL), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('cannot read the last-applied journal: the snapshot alone is used', { error: (error as Error).message });
      return 0;
    }
    const lines = raw.split('\n');
    let follows: unknown;
    try {
      follows = (JSON.parse(lines[0]!) as { follows?: unknown }).follows;
    } catch { /* checked below */ }
    if (follows !== checksum) {
      this.log.warn('last-applied journal ignored: it does not follow the snapshot', { file: join(this.stateDir, JOURNAL) });
      // Nothing may be appended after it: the next save writes a snapshot (and removes it).
      return MUST_FOLD;
    }
    let used = lines[0]!.length + 1;
    for (let i = 1; i < lines.length && lines[i] !== ''; i++) {
      const change = verifiedChange(lines[i]!);
      if (!change) {
        this.log.warn('last-applied journal cut at a line that does not verify (a write cut short?)', { line: i + 1 });
        // A line appended after the torn one would never be replayed: the next save writes a snapshot.
        return MUST_FOLD;
      }
      if ('set' in change) byKey.set(change.set.key, change.set);
      else byKey.delete(change.delete);
      used += lines[i]!.length + 1;
    }
    return used;
  }
}

/** Journals shorter than this are not folded into a snapshot, however small the snapshot. */
const MIN_JOURNAL_FOLD_BYTES = 1 << 20;
/** A journal length that makes the next save write a snapshot. */
const MUST_FOLD = Number.MAX_SAFE_INTEGER;

type Change = { set: AppliedPolicy } | { delete: string };

const applied = (p: AppliedPolicy): AppliedPolicy => ({ key: p.key, source: p.source, origin: p.origin, location: p.location, text: p.text });

/** What turns `onDisk` into `policies`, by key. */
function changesFrom(onDisk: ReadonlyMap<string, AppliedPolicy>, policies: readonly AppliedPolicy[]): Change[] {
  const changes: Change[] = [];
  const keys = new Set<string>();
  for (const p of policies) {
    keys.add(p.key);
    const held = onDisk.get(p.key);
    if (!held || !samePolicy(held, p)) changes.push({ set: applied(p) });
  }
  for (const key of onDisk.keys()) if (!keys.has(key)) changes.push({ delete: key });
  return changes;
}

const changeChecksum = (payload: string): string => `sha256:${createHash('sha256').update(payload).digest('hex')}`;

function journalLine(change: Change): string {
  const payload = JSON.stringify(change);
  return `${JSON.stringify({ checksum: changeChecksum(payload), ...change })}\n`;
}

function verifiedChange(line: string): Change | undefined {
  try {
    const entry = JSON.parse(line) as { checksum?: unknown; set?: unknown; delete?: unknown };
    const change: Change | undefined = entry.set !== undefined && isApplied(entry.set) ? { set: entry.set }
      : typeof entry.delete === 'string' ? { delete: entry.delete } : undefined;
    return change && entry.checksum === changeChecksum(JSON.stringify(change)) ? change : undefined;
  } catch {
    return undefined;
  }
}

/** Appends `text` to `dir/name` (0600, created if absent) and syncs it before returning. */
async function appendDurably(dir: string, name: string, text: string): Promise<void> {
  await appendFile(join(dir, name), text, { mode: 0o600 });
  const handle = await open(join(dir, name), 'r+');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Texts of unchanged policies are the same strings, so these comparisons are cheap. */
const samePolicy = (x: AppliedPolicy, y: AppliedPolicy): boolean =>
  x.key === y.key && x.source === y.source && x.origin === y.origin && x.location === y.location && x.text === y.text;

/**
 * A snapshot's policies, verified. Read from the file's bytes a line at a time, within
 * the slices: the checksum covers the policy lines' bytes as written, and only a line
 * being parsed is decoded (decoding and splitting a snapshot of a thousand policies, 6 MB,
 * took one turn of ~6 ms). `length` is the text's length in UTF-16 units, the measure the
 * journal is compared with.
 */
async function verified(bytes: Buffer): Promise<{ policies: AppliedPolicy[]; checksum: string; length: number }> {
  const headerEnd = bytes.indexOf(NEWLINE);
  if (headerEnd < 0) throw new Error('no line after the header (truncated?)');
  const headerLine = bytes.toString('utf8', 0, headerEnd);
  const header = JSON.parse(headerLine) as { version?: unknown; checksum?: unknown; count?: unknown };
  if (header.version !== VERSION) throw new Error(`unknown version ${String(header.version)}`);
  const count = Number(header.count);
  if (!Number.isSafeInteger(count) || count < 0) throw new Error(`malformed policy count ${String(header.count)}`);
  const digest: Hash = createHash('sha256');
  const policies: AppliedPolicy[] = [];
  const slicer = new Slicer(1);
  let length = headerLine.length + 1;
  let at = headerEnd + 1;
  for (let i = 0; i < count; i++) {
    const end = bytes.indexOf(NEWLINE, at);
    if (end < 0) throw new Error(`expected ${count} policy lines, found ${i} (truncated?)`);
    digest.update(bytes.subarray(at, end + 1));
    const line = bytes.toString('utf8', at, end);
    length += line.length + 1;
    const p = JSON.parse(line) as unknown;
    if (!isApplied(p)) throw new Error(`malformed policy at line ${i + 2}`);
    policies.push(p);
    at = end + 1;
    if (slicer.due()) await slicer.yield();
  }
  if (at !== bytes.length) throw new Error(`expected ${count} policy lines, found more after them (or a partial line)`);
  const checksum = `sha256:${digest.digest('hex')}`;
  if (header.checksum !== checksum) throw new Error('checksum mismatch');
  return { policies, checksum, length };
}

/** Format 1: `{"version":1,"checksum":…,"policies":[…]}`, the checksum over JSON.stringify(policies). */
function verifiedV1(raw: string): { policies: AppliedPolicy[]; checksum: string; length: number } {
  const parsed = JSON.parse(raw) as { checksum?: unknown; policies?: unknown };
  if (!Array.isArray(parsed.policies) || !parsed.policies.every(isApplied)) throw new Error('malformed policy list');
  const checksum = `sha256:${createHash('sha256').update(JSON.stringify(parsed.policies)).digest('hex')}`;
  if (parsed.checksum !== checksum) throw new Error('checksum mismatch');
  return { policies: parsed.policies, checksum, length: raw.length };
}

function isApplied(p: unknown): p is AppliedPolicy {
  const o = p as Record<string, unknown>;
  return typeof o === 'object' && o !== null && ['key', 'source', 'origin', 'location', 'text'].every((k) => typeof o[k] === 'string');
}
