/**
 * Low-level wire helpers shared by the codec: typed errors, bounds checks, 8-byte
 * alignment and UTF-16LE strings. Decoding strings is on the event hot path: Buffer's
 * utf16le slice is ~3x faster than TextDecoder or String.fromCharCode for path-sized
 * strings, and keeps lone surrogates (legal in NTFS names) instead of replacing them.
 */

/** Bytes from the driver (or a test) that do not follow the ABI. */
export class AbiDecodeError extends Error {
  override readonly name = 'AbiDecodeError';
  constructor(
    readonly structName: string,
    readonly offset: number,
    readonly problem: string,
  ) {
    super(`${structName} at byte ${offset}: ${problem}`);
  }
}

/** A value that cannot be put on the wire (a path too long, an id out of range). */
export class AbiEncodeError extends Error {
  override readonly name = 'AbiEncodeError';
  constructor(
    readonly what: string,
    readonly problem: string,
  ) {
    super(`cannot encode ${what}: ${problem}`);
  }
}

export const align8 = (n: number): number => (n + 7) & ~7;
export const U64_MAX = (1n << 64n) - 1n;

export function dataView(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws unless `need` bytes are available at `offset` within `end`. */
export function need(structName: string, offset: number, size: number, end: number): void {
  if (offset + size > end) {
    throw new AbiDecodeError(structName, offset, `needs ${size} bytes, only ${Math.max(0, end - offset)} left`);
  }
}

/** Throws unless `value` is within the enum's `[min, max]`. */
// `range` is indexed, not destructured: array destructuring runs the iterator protocol,
// which cost microseconds per record when every record of a listing is checked.
export function expectEnum(structName: string, offset: number, field: string, value: number, range: readonly [number, number]): void {
  if (value < range[0] || value > range[1]) throw new AbiDecodeError(structName, offset, `${field} ${value} is not a known value`);
}

/** A Buffer over the same bytes (no copy): its utf16le decoding is the fastest in Node. */
export function textView(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

type Ucs2Slice = (this: Buffer, start: number, end: number) => string;
// Buffer#toString('utf16le', ...) spends as long validating its arguments as decoding;
// the encoding-specific slice it ends up calling is used directly where Node has it.
const ucs2Slice = (Buffer.prototype as unknown as { ucs2Slice?: Ucs2Slice }).ucs2Slice;

/** The UTF-16LE string of `byteCount` bytes at `byteStart` (code units kept as they are). */
export const readUtf16: (text: Buffer, byteStart: number, byteCount: number) => string = ucs2Slice
  ? (text, start, count) => (count === 0 ? '' : ucs2Slice.call(text, start, start + count))
  : (text, start, count) => (count === 0 ? '' : text.toString('utf16le', start, start + count));

/** Writes `s` as UTF-16LE at `offset`; returns the byte length. */
// Buffer.write encodes UTF-16 code units natively (lone surrogates as they are, like the
// kernel's WCHAR strings); one Buffer over a view's memory serves a whole message, and is
// held weakly so a sent message is not kept alive. Setting it up costs more than a small
// message saves, so only bulk messages (a large APPLY) take that path.
const buffers = new WeakMap<DataView, Buffer>();
const NATIVE_UTF16_MIN_MESSAGE = 64 * 1024;
/** Shorter strings are written unit by unit: the native call costs more than the loop. */
const NATIVE_UTF16_MIN_UNITS = 8;

export function writeUtf16(view: DataView, offset: number, s: string): number {
  if (view.byteLength < NATIVE_UTF16_MIN_MESSAGE) return writeUnits(view, offset, s);
  let buffer = buffers.get(view);
  if (!buffer) buffers.set(view, (buffer = Buffer.from(view.buffer, view.byteOffset, view.byteLength)));
  return writeNative(buffer, view, offset, s);
}

function writeUnits(view: DataView, offset: number, s: string): number {
  for (let i = 0; i < s.length; i++) view.setUint16(offset + i * 2, s.charCodeAt(i), true);
  return s.length * 2;
}

function writeNative(buffer: Buffer, view: DataView, offset: number, s: string): number {
  if (s.length < NATIVE_UTF16_MIN_UNITS) return writeUnits(view, offset, s);
  return ucs2Write ? ucs2Write.call(buffer, s, offset, s.length * 2) : buffer.write(s, offset, s.length * 2, 'utf16le');
}

type Ucs2Write = (this: Buffer, s: string, offset: number, length: number) => number;
// Buffer#write's argument handling costs about three times the copy itself (a 100k-rule
// APPLY: ~20 of its ~80 ms); as for reading, the encoding's own method is called directly
// where Node has it (it still checks the range against the buffer).
const ucs2Write = (Buffer.prototype as unknown as { ucs2Write?: Ucs2Write }).ucs2Write;

/**
 * `writeUtf16` for one large message written whole (a large APPLY): the Buffer over its
 * memory is made once, not looked up per string.
 */
export function bulkUtf16Writer(view: DataView): (offset: number, s: string) => number {
  const buffer = Buffer.from(view.buffer, view.byteOffset, view.byteLength);
  return (offset, s) => writeNative(buffer, view, offset, s);
}

export function checkStringBytes(what: string, s: string, max: number): number {
  const bytes = s.length * 2;
  if (bytes > max) throw new AbiEncodeError(what, `${bytes} UTF-16 bytes exceed the limit of ${max}`);
  return bytes;
}

export function checkU64(what: string, v: bigint, allowZero: boolean): void {
  if (v < (allowZero ? 0n : 1n) || v > U64_MAX) {
    throw new AbiEncodeError(what, `${v} is outside ${allowZero ? 0 : 1}..2^64-1`);
  }
}

export function checkU32(what: string, v: number): void {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new AbiEncodeError(what, `${v} is not a u32`);
}
