/**
 * What was last applied, per policy, kept in the state directory so that last-known-good
 * survives a restart: a policy file that is unreadable or invalid when the agent starts
 * keeps the version the driver enforced before. One file, `last-applied.json` (0600 in a
 * 0700 directory), carrying a SHA-256 of its content: a file that does not verify is
 * ignored (and said so in the log), never half-used.
 *
 * Format 2 is JSON lines: a header line `{"version":2,"checksum":…,"count":n}`, then one
 * policy per line; the checksum covers the policy lines (each followed by a newline). A
 * thousand policies are megabytes of text: lines let both reading and writing go in
 * slices with a yield between them, so the event loop never waits for the whole file.
 * Format 1 (one JSON document) is still read. Nothing is written when what is in force
 * equals what is on disk (an idle resync, a restart with nothing changed).
 */
import { createHash, type Hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
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
const VERSION = 2;
/** Longest slice of encoding, decoding or hashing between two yields to the event loop. */
const SLICE_MS = 5;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Runs `step` over `items`, yielding to the event loop every SLICE_MS. */
async function sliced<T>(items: readonly T[], step: (item: T, index: number) => void): Promise<void> {
  let since = performance.now();
  for (let i = 0; i < items.length; i++) {
    step(items[i]!, i);
    if (performance.now() - since > SLICE_MS) {
      await turn();
      since = performance.now();
    }
  }
}

export class LastAppliedFile {
  /** What is on disk (as loaded or last written); undefined: unknown, the next save writes. */
  private onDisk: readonly AppliedPolicy[] | undefined;

  constructor(private readonly stateDir: string, private readonly log: Logger) {}

  get path(): string {
    return join(this.stateDir, FILE);
  }

  /** The policies last applied, or none when there is no file or it does not verify. */
  async load(): Promise<AppliedPolicy[]> {
    let raw: string;
    try {
      raw = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') this.log.warn('cannot read the last-applied policies: last-known-good starts empty', { file: this.path, error: (error as Error).message });
      return [];
    }
    try {
      const policies = raw.startsWith('{"version":1,') ? verifiedV1(raw) : await verified(raw);
      this.onDisk = policies;
      return policies;
    } catch (error) {
      this.log.error('last-applied policies ignored: the file does not verify', { file: this.path, error: (error as Error).message });
      return [];
    }
  }

  /** Persist `policies` when they differ from what is on disk. */
  async save(policies: readonly AppliedPolicy[]): Promise<void> {
    if (this.onDisk && samePolicies(this.onDisk, policies)) return;
    // Encoded again whole (in slices): keeping each policy's encoded line between saves
    // held a second copy of every text (megabytes at a thousand policies) for a few ms saved.
    const lines: string[] = [];
    const digest = createHash('sha256');
    await sliced(policies, (p) => {
      const line = `${JSON.stringify({ key: p.key, source: p.source, origin: p.origin, location: p.location, text: p.text })}\n`;
      digest.update(line);
      lines.push(line);
    });
    const header = `${JSON.stringify({ version: VERSION, checksum: `sha256:${digest.digest('hex')}`, count: policies.length })}\n`;
    await writeFileAtomic(this.stateDir, FILE, header + lines.join(''));
    this.onDisk = [...policies];
  }
}

/** Texts of unchanged policies are the same strings, so these comparisons are cheap. */
const samePolicy = (x: AppliedPolicy, y: AppliedPolicy): boolean =>
  x.key === y.key && x.source === y.source && x.origin === y.origin && x.location === y.location && x.text === y.text;

function samePolicies(a: readonly AppliedPolicy[], b: readonly AppliedPolicy[]): boolean {
  return a.length === b.length && a.every((x, i) => samePolicy(x, b[i]!));
}

async function verified(raw: string): Promise<AppliedPolicy[]> {
  const lines = raw.split('\n');
  const header = JSON.parse(lines[0]!) as { version?: unknown; checksum?: unknown; count?: unknown };
  if (header.version !== VERSION) throw new Error(`unknown version ${String(header.version)}`);
  const count = Number(header.count);
  // count policy lines, then the empty string after the last newline.
  if (!Number.isSafeInteger(count) || lines.length !== count + 2 || lines[count + 1] !== '') throw new Error(`expected ${String(header.count)} policy lines, found ${lines.length - 2} (truncated?)`);
  const body = lines.slice(1, count + 1);
  const digest: Hash = createHash('sha256');
  const policies: AppliedPolicy[] = [];
  await sliced(body, (line, i) => {
    digest.update(`${line}\n`);
    const p = JSON.parse(line) as unknown;
    if (!isApplied(p)) throw new Error(`malformed policy at line ${i + 2}`);
    policies.push(p);
  });
  if (header.checksum !== `sha256:${digest.digest('hex')}`) throw new Error('checksum mismatch');
  return policies;
}

/** Format 1: `{"version":1,"checksum":…,"policies":[…]}`, the checksum over JSON.stringify(policies). */
function verifiedV1(raw: string): AppliedPolicy[] {
  const parsed = JSON.parse(raw) as { checksum?: unknown; policies?: unknown };
  if (!Array.isArray(parsed.policies) || !parsed.policies.every(isApplied)) throw new Error('malformed policy list');
  const checksum = `sha256:${createHash('sha256').update(JSON.stringify(parsed.policies)).digest('hex')}`;
  if (parsed.checksum !== checksum) throw new Error('checksum mismatch');
  return parsed.policies;
}

function isApplied(p: unknown): p is AppliedPolicy {
  const o = p as Record<string, unknown>;
  return typeof o === 'object' && o !== null && ['key', 'source', 'origin', 'location', 'text'].every((k) => typeof o[k] === 'string');
}
