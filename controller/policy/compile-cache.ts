/**
 * The compile cache: prepared policy texts (./prepared.ts) kept in the state directory,
 * so a restart with nothing changed neither parses nor translates. An entry is found by
 * location and used only when the key matches: a hash of the text, its location and the
 * compile context; the file as a whole belongs to one kawin version.
 *
 * File: `KAWINCC1`, a length-prefixed header (the kawin version), length-prefixed
 * records (each one v8.serialize'd entry), then the SHA-256 of everything before it. A
 * file that fails any check (truncated, flipped bits, another version) is not used: the
 * cache starts empty and the next save rewrites it. Saves are atomic (temp + rename);
 * loads and saves hash and (de)serialize in slices, yielding between them.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deserialize, serialize } from 'node:v8';
import { Slicer } from '../clock/index.js';
import type { PreparedText } from './prepared.js';

const MAGIC = Buffer.from('KAWINCC1');
const DIGEST_BYTES = 32;
const HASH_STEP_BYTES = 1 << 20;

export interface CacheEntry {
  key: string;
  prepared: PreparedText;
}

/**
 * What the load found: entries, no file (`absent`: not a problem, a first start has none),
 * or a file not used and why.
 */
export type CacheLoadOutcome = { loaded: number; absent?: true } | { loaded: 0; rejected: string };

export class CompileCache {
  private readonly entries = new Map<string, CacheEntry>();
  /** Locations looked up or stored since load: only these are written back. */
  private readonly used = new Set<string>();
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();

  constructor(readonly file: string, readonly version: string) {}

  static fileIn(stateDir: string): string {
    return path.join(stateDir, 'compile-cache.bin');
  }

  async load(): Promise<CacheLoadOutcome> {
    let bytes: Buffer;
    try {
      bytes = await readFile(this.file);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        // Written at the next save even with no entry: the next start then knows it is not a first one.
        this.dirty = true;
        return { loaded: 0, absent: true };
      }
      return { loaded: 0, rejected: `unreadable: ${(error as Error).message}` };
    }
    try {
      for (const entry of await decodeFile(bytes, this.version)) this.entries.set(entry.prepared.location, entry);
    } catch (error) {
      this.entries.clear();
      this.dirty = true;
      return { loaded: 0, rejected: (error as Error).message };
    }
    return { loaded: this.entries.size };
  }

  /** The prepared text for this location if its key matches. */
  get(location: string, key: string): PreparedText | undefined {
    this.used.add(location);
    const entry = this.entries.get(location);
    return entry?.key === key ? entry.prepared : undefined;
  }

  set(key: string, prepared: PreparedText): void {
    this.used.add(prepared.location);
    const before = this.entries.get(prepared.location);
    if (before?.key === key) return;
    this.entries.set(prepared.location, { key, prepared });
    this.dirty = true;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Writes the entries in use if anything changed (one save at a time). */
  save(): Promise<void> {
    this.saving = this.saving.then(() => this.write());
    return this.saving;
  }

  private async write(): Promise<void> {
    for (const location of this.entries.keys()) {
      if (!this.used.has(location)) {
        this.entries.delete(location);
        this.dirty = true;
      }
    }
    if (!this.dirty) return;
    this.dirty = false;
    // A large cache is written without stalling the event loop: serialized and hashed in
    // slices, from a turn of its own (the save after the first apply starts after the turn
    // that applied the rules instead of adding its first slice to it).
    const slice = new Slicer(1);
    await slice.yield();
    const chunks: Buffer[] = [MAGIC, framed(Buffer.from(this.version))];
    const digest = createHash('sha256');
    digest.update(chunks[0]!).update(chunks[1]!);
    for (const entry of [...this.entries.values()]) {
      const record = framed(serialize(entry));
      digest.update(record);
      chunks.push(record);
      if (slice.due()) await slice.yield();
    }
    chunks.push(digest.digest());
    await mkdir(path.dirname(this.file), { recursive: true });
    const temp = `${this.file}.${process.pid}.tmp`;
    await writeFile(temp, Buffer.concat(chunks));
    await rename(temp, this.file);
  }
}

function framed(payload: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32LE(payload.length);
  return Buffer.concat([length, payload]);
}

/** The file's records, checked and decoded in slices (a cache of 100k rules is megabytes). */
async function decodeFile(bytes: Buffer, version: string): Promise<CacheEntry[]> {
  if (bytes.length < MAGIC.length + 4 + DIGEST_BYTES || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) throw new Error('not a kawin compile cache');
  const body = bytes.subarray(0, bytes.length - DIGEST_BYTES);
  const expected = bytes.subarray(bytes.length - DIGEST_BYTES);
  const slice = new Slicer(1);
  const digest = createHash('sha256');
  for (let at = 0; at < body.length; at += HASH_STEP_BYTES) {
    digest.update(body.subarray(at, at + HASH_STEP_BYTES));
    if (slice.due()) await slice.yield();
  }
  if (!digest.digest().equals(expected)) throw new Error('checksum mismatch (corrupt or truncated)');
  let at = MAGIC.length;
  const next = (): Buffer => {
    if (at + 4 > body.length) throw new Error(`truncated record at byte ${at}`);
    const length = body.readUInt32LE(at);
    if (at + 4 + length > body.length) throw new Error(`record at byte ${at} runs past the end`);
    const payload = body.subarray(at + 4, at + 4 + length);
    at += 4 + length;
    return payload;
  };
  const fileVersion = next().toString();
  if (fileVersion !== version) throw new Error(`written by kawin ${fileVersion}, this is ${version}`);
  const entries: CacheEntry[] = [];
  while (at < body.length) {
    entries.push(deserialize(next()) as CacheEntry);
    if (slice.due()) await slice.yield();
  }
  return entries;
}
