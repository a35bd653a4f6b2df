/**
 * Policy bytes → text. UTF-8 (with or without a BOM) and UTF-16 with a BOM (what Windows
 * PowerShell 5.1's `Out-File` and `>` write) are accepted; anything else is refused
 * with the byte where it goes wrong. Never decoded with replacement characters: a
 * U+FFFD in a path would be enforced on a file that does not exist while the intended
 * one stays open.
 */

/** Bytes that are not text kawin reads (invalid UTF-8, unpaired UTF-16, UTF-16 without a BOM). */
export class PolicyEncodingError extends Error {
  override readonly name = 'PolicyEncodingError';
  constructor(
    readonly location: string,
    /** 0-based byte offset of the first offending byte. */
    readonly offset: number,
    readonly problem: string,
  ) {
    super(`${location}: ${problem} at byte ${offset}; save the file as UTF-8 (or UTF-16 with a byte-order mark)`);
  }
}

const UTF8_BOM = [0xef, 0xbb, 0xbf];

/** The text of `bytes`, or the reason it is not text. */
export function decodePolicyText(bytes: Uint8Array, location: string): string {
  if (startsWith(bytes, [0xff, 0xfe])) return decodeUtf16(bytes, 'utf-16le', location);
  if (startsWith(bytes, [0xfe, 0xff])) return decodeUtf16(bytes, 'utf-16be', location);
  const body = startsWith(bytes, UTF8_BOM) ? bytes.subarray(3) : bytes;
  // A UTF-16 file without a BOM is "valid" UTF-8 full of NULs: say what it is.
  if (looksLikeUtf16(body)) throw new PolicyEncodingError(location, body.indexOf(0) + bytes.length - body.length, 'UTF-16 text without a byte-order mark');
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(body);
  } catch {
    throw new PolicyEncodingError(location, invalidUtf8Offset(body) + bytes.length - body.length, 'invalid UTF-8');
  }
}

function decodeUtf16(bytes: Uint8Array, encoding: 'utf-16le' | 'utf-16be', location: string): string {
  if (bytes.length % 2 !== 0) throw new PolicyEncodingError(location, bytes.length - 1, `odd number of bytes in ${encoding.toUpperCase()} text`);
  try {
    return new TextDecoder(encoding, { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new PolicyEncodingError(location, unpairedSurrogateOffset(bytes, encoding === 'utf-16le'), `unpaired surrogate in ${encoding.toUpperCase()} text`);
  }
}

function startsWith(bytes: Uint8Array, prefix: readonly number[]): boolean {
  return prefix.every((b, i) => bytes[i] === b);
}

/** Every other byte NUL over the first bytes: ASCII written as UTF-16. */
function looksLikeUtf16(bytes: Uint8Array): boolean {
  const n = Math.min(bytes.length, 64) & ~1;
  let zeros = 0;
  for (let i = 0; i < n; i++) if (bytes[i] === 0) zeros++;
  return n > 0 && zeros * 2 >= n * 0.8;
}

/** Offset of the first byte that does not start or continue a well-formed UTF-8 sequence. */
export function invalidUtf8Offset(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const length = sequenceLength(bytes, i);
    if (length === 0) return i;
    i += length;
  }
  return bytes.length;
}

// Per lead byte: sequence length and the allowed range of the second byte (RFC 3629
// table 3-7: no overlongs, no surrogates, nothing above U+10FFFF); later bytes are 80..BF.
const LEADS: ReadonlyArray<readonly [number, number, number, number, number]> = [
  [0xc2, 0xdf, 2, 0x80, 0xbf], [0xe0, 0xe0, 3, 0xa0, 0xbf], [0xe1, 0xec, 3, 0x80, 0xbf], [0xed, 0xed, 3, 0x80, 0x9f],
  [0xee, 0xef, 3, 0x80, 0xbf], [0xf0, 0xf0, 4, 0x90, 0xbf], [0xf1, 0xf3, 4, 0x80, 0xbf], [0xf4, 0xf4, 4, 0x80, 0x8f],
];

/** Length of the well-formed sequence at `i`, 0 if none. */
function sequenceLength(bytes: Uint8Array, i: number): number {
  const b = bytes[i]!;
  if (b < 0x80) return 1;
  const lead = LEADS.find(([from, to]) => b >= from && b <= to);
  if (!lead) return 0;
  const [, , length, low, high] = lead;
  const inRange = (k: number, lo: number, hi: number) => bytes[i + k] !== undefined && bytes[i + k]! >= lo && bytes[i + k]! <= hi;
  if (!inRange(1, low, high)) return 0;
  for (let k = 2; k < length; k++) if (!inRange(k, 0x80, 0xbf)) return 0;
  return length;
}

function unpairedSurrogateOffset(bytes: Uint8Array, littleEndian: boolean): number {
  const unit = (i: number) => (littleEndian ? bytes[i]! | (bytes[i + 1]! << 8) : (bytes[i]! << 8) | bytes[i + 1]!);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const u = unit(i);
    if (u >= 0xdc00 && u <= 0xdfff) return i;
    if (u < 0xd800 || u > 0xdbff) continue;
    const next = i + 3 < bytes.length ? unit(i + 2) : -1;
    if (next < 0xdc00 || next > 0xdfff) return i;
    i += 2;
  }
  return bytes.length;
}
