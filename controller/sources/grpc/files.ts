/**
 * Durable storage of gRPC-applied policies: one file per policy in
 * `<stateDir>/grpc-policies/`, written atomically (temp file, fsync, rename, fsync of
 * the directory) so a crash leaves either the old or the new version, never half.
 * Each file is an envelope {origin, rpc, policy} so the policy's identity survives
 * even when its name does not fit a file name.
 */
import { createHash } from 'node:crypto';
import { open, readdir, readFile, rename, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { TMP_PREFIX, writeFileAtomic } from '../../durable/index.js';
import type { PolicyRpc } from './types.js';

export interface StoredPolicy {
  origin: string;
  rpc: PolicyRpc;
  policy: Record<string, unknown>;
}

/** A policy read back, with the file it came from. */
export interface RestoredPolicy extends StoredPolicy {
  file: string;
  /** True when the file is the one `origin` is stored under (else it was put there by hand). */
  nameMatches: boolean;
}

export interface RestoreResult {
  policies: RestoredPolicy[];
  /** Files that could not be read back, moved aside as `<name>.corrupt`. */
  corrupt: { file: string; error: string }[];
}

const MAX_READABLE_NAME = 200;

export class PolicyFiles {
  readonly dir: string;

  constructor(stateDir: string) {
    this.dir = join(stateDir, 'grpc-policies');
  }

  /** Readable when short (`KubeArmorHostPolicy%2Fblock-cmd.json`), a digest otherwise. */
  fileName(origin: string): string {
    const readable = encodeURIComponent(origin.replace(/^grpc:/, ''));
    if (readable.length <= MAX_READABLE_NAME) return `${readable}.json`;
    return `${createHash('sha256').update(origin).digest('hex')}.json`;
  }

  /** A failed write (full disk) leaves no temp file behind and the previous version in place. */
  async write(entry: StoredPolicy): Promise<void> {
    await writeFileAtomic(this.dir, this.fileName(entry.origin), `${JSON.stringify(entry, null, 2)}\n`);
  }

  async remove(origin: string): Promise<void> {
    try {
      await unlink(join(this.dir, this.fileName(origin)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    await this.syncDir();
  }

  async restore(): Promise<RestoreResult> {
    const result: RestoreResult = { policies: [], corrupt: [] };
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return result;
      throw error;
    }
    for (const name of names.sort()) {
      const path = join(this.dir, name);
      if (name.startsWith(TMP_PREFIX)) await unlink(path).catch(() => undefined); // an interrupted write
      if (!name.endsWith('.json')) continue;
      try {
        const stored = parseStored(await readFile(path, 'utf8'));
        result.policies.push({ ...stored, file: path, nameMatches: this.fileName(stored.origin) === name });
      } catch (error) {
        result.corrupt.push({ file: path, error: (error as Error).message });
        await rename(path, `${path}.corrupt`).catch(() => undefined);
      }
    }
    return result;
  }

  private async syncDir(): Promise<void> {
    const handle = await open(this.dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  }
}

function parseStored(text: string): StoredPolicy {
  const value = JSON.parse(text) as Partial<StoredPolicy>;
  const rpcs: readonly string[] = ['containerPolicy', 'hostPolicy', 'networkPolicy'];
  if (typeof value.origin !== 'string' || !value.origin.startsWith('grpc:')) throw new Error('missing "origin"');
  if (typeof value.rpc !== 'string' || !rpcs.includes(value.rpc)) throw new Error('missing or unknown "rpc"');
  if (typeof value.policy !== 'object' || value.policy === null) throw new Error('missing "policy"');
  return value as StoredPolicy;
}
