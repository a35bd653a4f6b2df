/**
 * The prepared texts of one worker request as one message (./prepare-pool.ts). Their
 * translations' numbers (ids, flags, origin indexes, codes) travel in one ArrayBuffer,
 * transferred, not copied; the paths in one array. Unpacked, each text is the same
 * PreparedText that prepareText gave in the worker — the same keys in the same order and
 * typed arrays of their own — so the compile cache writes the same bytes for it.
 *
 * Measured on 1k texts of 100 rules, sender and receiver on one thread: a message per
 * text took 24–31 ms to post and 38–41 ms to receive; one cloned message per chunk
 * 21–30 and 31–40; this form 20–26 and 18–21.
 */
import type { PackedTranslation, PreparedDocument, PreparedText } from './prepared.js';

/** A translation without its per-rule data, which is in the chunk's buffers. */
interface ChunkTranslation {
  rules: number;
  origins: PackedTranslation['origins'];
  problems: PackedTranslation['problems'];
}

type ChunkDocument = Omit<PreparedDocument, 'translation'> & { translation?: ChunkTranslation };

export interface PreparedChunk {
  texts: (Omit<PreparedText, 'documents'> & { documents: ChunkDocument[] })[];
  /** Every rule of the chunk, in order: ids (8 bytes a rule), flags (4), origin indexes (4), codes (4). */
  numbers: ArrayBuffer;
  /** Target then source ('' for none) of every rule, in order. */
  paths: string[];
}

const RULE_BYTES = 20;

/** Views on a chunk's numbers for `n` rules. */
function views(buffer: ArrayBuffer, n: number) {
  return {
    ids: new BigUint64Array(buffer, 0, n),
    flags: new Uint32Array(buffer, 8 * n, n),
    originOf: new Uint32Array(buffer, 12 * n, n),
    codes: new Uint8Array(buffer, 16 * n, 4 * n),
  };
}

/** One chunk of prepared texts, and the buffer to transfer with it. */
export function packChunk(prepared: readonly PreparedText[]): { chunk: PreparedChunk; transfer: ArrayBuffer[] } {
  let n = 0;
  for (const text of prepared) for (const doc of text.documents) n += doc.translation?.ids.length ?? 0;
  const numbers = new ArrayBuffer(n * RULE_BYTES);
  const { ids, flags, originOf, codes } = views(numbers, n);
  const paths = new Array<string>(2 * n);
  let at = 0;
  const texts = prepared.map((text) => ({
    ...text,
    documents: text.documents.map((doc): ChunkDocument => {
      const t = doc.translation;
      if (!t) return doc as ChunkDocument;
      ids.set(t.ids, at);
      flags.set(t.flags, at);
      originOf.set(t.originOf, at);
      codes.set(t.codes, 4 * at);
      for (let i = 0; i < t.targets.length; i++) {
        paths[2 * (at + i)] = t.targets[i]!;
        paths[2 * (at + i) + 1] = t.sources[i]!;
      }
      at += t.ids.length;
      return { ...doc, translation: { rules: t.ids.length, origins: t.origins, problems: t.problems } };
    }),
  }));
  return { chunk: { texts, numbers, paths }, transfer: [numbers] };
}

/** The prepared texts of a chunk, in order (the chunk's objects are reused). */
export function unpackChunk(chunk: PreparedChunk): PreparedText[] {
  const n = chunk.numbers.byteLength / RULE_BYTES;
  const { ids, flags, originOf, codes } = views(chunk.numbers, n);
  const { paths } = chunk;
  let at = 0;
  for (const text of chunk.texts) {
    for (const doc of text.documents) {
      const t = doc.translation;
      if (!t) continue;
      const end = at + t.rules;
      const targets = new Array<string>(t.rules);
      const sources = new Array<string>(t.rules);
      for (let i = 0; i < t.rules; i++) {
        targets[i] = paths[2 * (at + i)]!;
        sources[i] = paths[2 * (at + i) + 1]!;
      }
      // The key order of packTranslation's object: the cache serializes what it is given.
      const packed: PackedTranslation = {
        ids: ids.slice(at, end), codes: codes.slice(4 * at, 4 * end), flags: flags.slice(at, end),
        targets, sources, originOf: originOf.slice(at, end), origins: t.origins, problems: t.problems,
      };
      (doc as PreparedDocument).translation = packed;
      at = end;
    }
  }
  return chunk.texts as PreparedText[];
}
