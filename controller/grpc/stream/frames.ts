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
 * Framed messages gathered into one buffer. `reserve(n)` returns where n bytes may be
 * written; `take()` returns what was gathered as a buffer of its own (the scratch buffer
 * is reused, so a chunk never pins more memory than its bytes).
 */
export class FrameBatch {
  private scratch: Buffer;
  private used = 0;
  /** Messages gathered. */
  count = 0;

  constructor(private readonly initialBytes: number) {
    this.scratch = Buffer.allocUnsafe(initialBytes);
  }

  get bytes(): number { return this.used; }
  get buffer(): Buffer { return this.scratch; }

  /** Offset of `n` free bytes (the scratch grows if needed); call `commit` after writing them. */
  reserve(n: number): number {
    if (this.used + n > this.scratch.length) {
      const next = Buffer.allocUnsafe(Math.max(this.scratch.length * 2, this.used + n));
      this.scratch.copy(next, 0, 0, this.used);
      this.scratch = next;
    }
    return this.used;
  }

  commit(n: number): void {
    this.used += n;
    this.count++;
  }

  /** The gathered frames (a copy), and the batch emptied. */
  take(): Buffer {
    const out = Buffer.allocUnsafe(this.used);
    this.scratch.copy(out, 0, 0, this.used);
    this.used = 0;
    this.count = 0;
    if (this.scratch.length > 4 * this.initialBytes) this.scratch = Buffer.allocUnsafe(this.initialBytes);
    return out;
  }
}
