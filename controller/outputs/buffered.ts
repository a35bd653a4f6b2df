/**
 * A bounded line buffer in front of a slow writer (a file, a pipe). `push` never waits:
 * lines queue (a DropOldestQueue) up to `maxBufferBytes` (outputs.<name>.maxBufferBytes),
 * beyond which the OLDEST queued lines are dropped and counted; one flush loop hands the writer everything queued as one chunk and waits
 * for it (backpressure) before the next. After a loss, the next chunk starts with a
 * SystemEvent line saying how many lines this output dropped.
 */
import { DropOldestQueue } from '../buffer/index.js';
import type { Clock } from '../clock/index.js';
import { unixMillisToEventTime } from '../events/index.js';
import { jsonLine } from './jsonl.js';

export interface LineTarget {
  /** Resolve when the chunk is accepted (the stream drained, the file written). */
  write(chunk: string): Promise<void>;
  close(): Promise<void>;
}

export interface OutputCounts {
  lines: number;
  dropped: number;
  writeErrors: number;
}

export interface BufferedOutputOptions {
  name: string;
  maxBufferBytes: number;
  clock: Clock;
  observer?: BufferedOutputObserver;
}

/** What a buffered output tells (the notification style of docs/extending.md). */
export interface BufferedOutputObserver {
  /** A write to the target failed (the lines are counted as write errors). */
  failed?(error: Error): void;
}

export class BufferedLineOutput {
  readonly counts: OutputCounts = { lines: 0, dropped: 0, writeErrors: 0 };
  private readonly lines: DropOldestQueue<string>;
  private droppedSinceWrite = 0;
  private flushing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly target: LineTarget, private readonly o: BufferedOutputOptions) {
    if (!(o.maxBufferBytes > 0)) throw new RangeError(`${o.name}: maxBufferBytes must be positive, got ${o.maxBufferBytes}`);
    // Bounded in bytes (UTF-16 code units, as documented); the line count is bounded by the bytes.
    this.lines = new DropOldestQueue(`outputs.${o.name}.maxBufferBytes`, { bytes: o.maxBufferBytes });
  }

  push(line: string): void {
    if (this.closed) return;
    const dropped = this.lines.push(line, 1, line.length);
    this.counts.dropped += dropped;
    this.droppedSinceWrite += dropped;
    this.flushing ??= this.flushLoop();
  }

  /** Write out what is queued, then close the target. */
  async close(): Promise<void> {
    this.closed = true;
    while (this.flushing) await this.flushing;
    await this.target.close();
  }

  private async flushLoop(): Promise<void> {
    await Promise.resolve(); // gather the lines pushed in the same turn into one chunk
    try {
      while (this.lines.length > 0) await this.writeChunk();
    } finally {
      this.flushing = undefined;
    }
  }

  private async writeChunk(): Promise<void> {
    const lines = this.lines.drain();
    let chunk = lines.join('');
    if (this.droppedSinceWrite > 0) {
      chunk = this.lossLine(this.droppedSinceWrite) + chunk;
      this.droppedSinceWrite = 0;
    }
    try {
      await this.target.write(chunk);
      this.counts.lines += lines.length;
    } catch (err) {
      this.counts.writeErrors++;
      this.counts.dropped += lines.length;
      this.o.observer?.failed?.(err as Error);
    }
  }

  private lossLine(dropped: number): string {
    const t = unixMillisToEventTime(this.o.clock.now());
    return jsonLine({
      Timestamp: t.seconds, UpdatedTime: t.text, Type: 'SystemEvent', Level: 'WARN',
      Message: `kawin output ${this.o.name} dropped ${dropped} line${dropped === 1 ? '' : 's'} (its buffer was full)`,
    });
  }
}
