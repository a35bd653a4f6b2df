/**
 * What the source has seen and reported, per file: the stat signature last looked at
 * and the digest of the content last reported (absent while only rejected versions
 * were seen). The revision is a digest of the reported set.
 */
import path from 'node:path';
import { sha256 } from './read.js';

interface Known {
  signature: string;
  digest?: string;
  /** The last look was rejected (too large, unreadable…): the sink holds that error for it. */
  rejected?: boolean;
}

export class FileSet {
  private readonly files = new Map<string, Known>();

  /** True when `origin` was last seen with this signature (content not re-read). */
  unchanged(origin: string, signature: string): boolean {
    return this.files.get(origin)?.signature === signature;
  }

  reportedDigest(origin: string): string | undefined {
    return this.files.get(origin)?.digest;
  }

  /** Record a look at `origin` whose content was reported (`digest`), or rejected (the last reported digest kept). */
  record(origin: string, signature: string, digest?: string): void {
    const rejected = digest === undefined;
    this.files.set(origin, { signature, digest: digest ?? this.files.get(origin)?.digest, rejected });
  }

  /** Known files at or inside one of `scopes` (or outside every root) that `seen` lacks. */
  missing(seen: ReadonlySet<string>, scopes: readonly string[], roots: readonly string[]): string[] {
    const inside = (origin: string, dirs: readonly string[]) => dirs.some((d) => origin === d || origin.startsWith(d + path.sep));
    return [...this.files.keys()].filter((o) => !seen.has(o) && (inside(o, scopes) || !inside(o, roots))).sort();
  }

  /** Forget `origin`; true when content or a rejection of it had been reported (so its removal must be reported). */
  forget(origin: string): boolean {
    const known = this.files.get(origin);
    const had = known?.digest !== undefined || known?.rejected === true;
    this.files.delete(origin);
    return had;
  }

  get size(): number {
    return this.files.size;
  }

  /** `sha256:` over the sorted (path, content digest) pairs of the reported files. */
  revision(): string {
    const entries = [...this.files].filter(([, k]) => k.digest !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `sha256:${sha256(entries.map(([origin, k]) => `${origin}\0${k.digest}\n`).join(''))}`;
  }
}
