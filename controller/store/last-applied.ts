/**
 * What was last applied, per policy, kept in the state directory so that last-known-good
 * survives a restart: a policy file that is unreadable or invalid when the agent starts
 * keeps the version the driver enforced before. One file, `last-applied.json` (0600 in a
 * 0700 directory), carrying a SHA-256 of its content: a file that does not verify is
 * ignored (and said so in the log), never half-used.
 */
import { createHash } from 'node:crypto';
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
const VERSION = 1;

export class LastAppliedFile {
  private saved = '';

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
      const policies = verified(raw);
      this.saved = JSON.stringify(policies);
      return policies;
    } catch (error) {
      this.log.error('last-applied policies ignored: the file does not verify', { file: this.path, error: (error as Error).message });
      return [];
    }
  }

  /** Persist `policies` when they differ from what is on disk. */
  async save(policies: AppliedPolicy[]): Promise<void> {
    const body = JSON.stringify(policies);
    if (body === this.saved) return;
    await writeFileAtomic(this.stateDir, FILE, `${JSON.stringify({ version: VERSION, checksum: checksum(body), policies })}\n`);
    this.saved = body;
  }
}

function checksum(body: string): string {
  return `sha256:${createHash('sha256').update(body).digest('hex')}`;
}

function verified(raw: string): AppliedPolicy[] {
  const parsed = JSON.parse(raw) as { version?: unknown; checksum?: unknown; policies?: unknown };
  if (parsed.version !== VERSION) throw new Error(`unknown version ${String(parsed.version)}`);
  if (!Array.isArray(parsed.policies) || !parsed.policies.every(isApplied)) throw new Error('malformed policy list');
  if (parsed.checksum !== checksum(JSON.stringify(parsed.policies))) throw new Error('checksum mismatch');
  return parsed.policies;
}

function isApplied(p: unknown): p is AppliedPolicy {
  const o = p as Record<string, unknown>;
  return typeof o === 'object' && o !== null && ['key', 'source', 'origin', 'location', 'text'].every((k) => typeof o[k] === 'string');
}
