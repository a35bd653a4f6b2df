/**
 * gRPC messages as HTTP/2 DATA bytes, and a way to write many of them at once.
 *
 * A gRPC message on the wire is a 5-byte prefix (compressed flag 0, u32 big-endian
 * length) and the message. grpc-js writes each message on its own: through an
 * object-mode Writable, the interceptor chain, a copy into a framed buffer and one
 * HTTP/2 stream write per message — about 5 µs of main thread per message, which caps
 * one subscriber well below the event rate (bench:events). The fan-out instead frames
 * messages itself, many per buffer, and hands each buffer to the call's HTTP/2 stream in
 * one write (see `frameSink`): the client sees exactly the messages it would have seen.
 */

/** Bytes of the prefix before each message. */
export const FRAME_PREFIX = 5;

/** Writes the prefix of a `length`-byte message at `at`. */
export function writePrefix(b: Buffer, at: number, length: number): void {
  b[at] = 0;
  b.writeUInt32BE(length, at + 1);
}

/** One message framed on its own (notices, tests). */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(FRAME_PREFIX + message.length);
  writePrefix(out, 0, message.length);
  out.set(message, FRAME_PREFIX);
  return out;
}

/** The messages of a framed buffer, in order (views into it). */
export function* messagesOf(frames: Buffer): Generator<Buffer> {
  for (let at = 0; at + FRAME_PREFIX <= frames.length;) {
    const length = frames.readUInt32BE(at + 1);
    yield frames.subarray(at + FRAME_PREFIX, at + FRAME_PREFIX + length);
    at += FRAME_PREFIX + length;
  }
}

/** `frames` without its first `count` messages (a view): the trim of a chunk in a drop-oldest queue. */
export function dropFrames(frames: Buffer, count: number): Buffer {
  let at = 0;
  for (let i = 0; i < count && at + FRAME_PREFIX <= frames.length; i++) at += FRAME_PREFIX + frames.readUInt32BE(at + 1);
  return frames.subarray(at);
}

/**
 * Bytes of the slabs a FrameBatch writes into. One allocation serves hundreds of
 * messages (a fresh buffer per chunk cost more than encoding its messages); a chunk is
 * a view of its slab, so the chunks a stream's shared log holds pin at most the bytes
 * they account for plus a slab at either end.
 */
export const SLAB_BYTES = 256 * 1024;

/**
 * Framed messages gathered into a chunk. `reserve(n)` returns where n bytes may be
 * written in `buffer`; `commit(n)` counts them as one message; `take()` returns the
 * messages gathered since the last take as a chunk of their own: a view of the current
 * slab that nothing writes to again (the batch only writes after it, or in a new slab).
 */
export class FrameBatch {
  private slab: Buffer;
  /** Where the open chunk starts in the slab, and where its bytes end. */
  private start = 0;
  private used = 0;
  /** Messages gathered. */
  count = 0;

  constructor(private readonly slabBytes = SLAB_BYTES) {
    this.slab = Buffer.allocUnsafeSlow(slabBytes);
  }

  get bytes(): number { return this.used - this.start; }
  get buffer(): Buffer { return this.slab; }

  /** Offset in `buffer` of `n` free bytes (a new slab if this one is full); call `commit` after writing them. */
  reserve(n: number): number {
    if (this.used + n > this.slab.length) {
      const open = this.used - this.start;
      const next = Buffer.allocUnsafeSlow(Math.max(this.slabBytes, open + n));
      this.slab.copy(next, 0, this.start, this.used);
      this.slab = next;
      this.start = 0;
      this.used = open;
    }
    return this.used;
  }

  commit(n: number): void {
    this.used += n;
    this.count++;
  }

  /** The gathered frames (a view no later write touches), and the batch emptied. */
  take(): Buffer {
    const out = this.slab.subarray(this.start, this.used);
    this.start = this.used;
    this.count = 0;
    return out;
  }
}
