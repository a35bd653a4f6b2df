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
  /**
   * Every known origin in order, kept until one is added or forgotten: a change to one
   * file (the common case) re-reads the set but does not sort a thousand paths again.
   */
  private sorted: string[] | undefined;

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
    const known = this.files.get(origin);
    if (!known) this.sorted = undefined;
    this.files.set(origin, { signature, digest: digest ?? known?.digest, rejected });
  }

  /** Known files at or inside one of `scopes` (or outside every root) that `seen` lacks. */
  missing(seen: ReadonlySet<string>, scopes: readonly string[], roots: readonly string[]): string[] {
    const inside = (origin: string, dirs: readonly string[]) => dirs.some((d) => origin === d || origin.startsWith(d + path.sep));
    return this.origins().filter((o) => !seen.has(o) && (inside(o, scopes) || !inside(o, roots)));
  }

  /** Forget `origin`; true when content or a rejection of it had been reported (so its removal must be reported). */
  forget(origin: string): boolean {
    const known = this.files.get(origin);
    const had = known?.digest !== undefined || known?.rejected === true;
    if (this.files.delete(origin)) this.sorted = undefined;
    return had;
  }

  get size(): number {
    return this.files.size;
  }

  /** `sha256:` over the sorted (path, content digest) pairs of the reported files. */
  revision(): string {
    let text = '';
    for (const origin of this.origins()) {
      const digest = this.files.get(origin)!.digest;
      if (digest !== undefined) text += `${origin}\0${digest}\n`;
    }
    return `sha256:${sha256(text)}`;
  }

  /** Known origins in UTF-16 code unit order (Array#sort's). */
  private origins(): readonly string[] {
    return (this.sorted ??= [...this.files.keys()].sort());
  }
}
