/**
 * FILETIME (100 ns ticks since 1601-01-01 UTC) to KubeArmor's time fields: `Timestamp`
 * (Unix seconds, int64) and `UpdatedTime` (RFC 3339 UTC with microseconds, upstream's
 * `2006-01-02T15:04:05.000000Z`). The conversion stays in BigInt so no tick is lost to
 * float rounding; the seventh fractional digit (100 ns) is truncated, as the wire format
 * has six. Events arrive in time order, so the formatter keeps the text of the current
 * second and only builds a Date when the second changes.
 */

/** FILETIME of 1970-01-01T00:00:00Z. */
export const UNIX_EPOCH_FILETIME = 116_444_736_000_000_000n;
const TICKS_PER_SECOND = 10_000_000n;
const TICKS_PER_SECOND_NUM = 10_000_000;

export interface EventTime {
  /** Unix seconds (floor, so negative before 1970). */
  seconds: number;
  /** RFC 3339 UTC with microseconds. */
  text: string;
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** `YYYY-MM-DDTHH:MM:SS.` for a Unix second. */
export function secondPrefix(unixSeconds: number): string {
  const d = new Date(unixSeconds * 1000);
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1, 2)}-${pad(d.getUTCDate(), 2)}T` +
    `${pad(d.getUTCHours(), 2)}:${pad(d.getUTCMinutes(), 2)}:${pad(d.getUTCSeconds(), 2)}.`;
}

/** Six-digit microsecond text from 100 ns ticks within a second (0 ≤ ticks < 10^7). */
const microText = (ticks: number): string => String(1_000_000 + Math.floor(ticks / 10)).slice(1);

/** Stateless conversion; the pipeline uses the caching TimeFormatter below. */
export function filetimeToEventTime(filetime: bigint): EventTime {
  const sinceEpoch = filetime - UNIX_EPOCH_FILETIME;
  let seconds = sinceEpoch / TICKS_PER_SECOND;
  let ticks = sinceEpoch % TICKS_PER_SECOND;
  if (ticks < 0n) { seconds -= 1n; ticks += TICKS_PER_SECOND; } // BigInt division truncates
  const s = Number(seconds);
  return { seconds: s, text: `${secondPrefix(s)}${microText(Number(ticks))}Z` };
}

/** Unix milliseconds to EventTime (for messages the agent itself makes). */
export function unixMillisToEventTime(ms: number): EventTime {
  const seconds = Math.floor(ms / 1000);
  const ticks = Math.round((ms - seconds * 1000) * 10_000);
  return { seconds, text: `${secondPrefix(seconds)}${microText(ticks)}Z` };
}

/**
 * Caches the current second: converting an event of the same second costs one BigInt
 * subtraction and a short string. Returns a shared result object (read it before the
 * next call).
 */
export class TimeFormatter {
  private secondStart = -1n;
  private prefix = '';
  private seconds = 0;
  private readonly out: EventTime = { seconds: 0, text: '' };

  format(filetime: bigint): EventTime {
    const ticks = Number(filetime - this.secondStart);
    if (!(ticks >= 0 && ticks < TICKS_PER_SECOND_NUM) || this.secondStart < 0n) {
      return this.newSecond(filetime);
    }
    this.out.seconds = this.seconds;
    this.out.text = `${this.prefix}${microText(ticks)}Z`;
    return this.out;
  }

  private newSecond(filetime: bigint): EventTime {
    const t = filetimeToEventTime(filetime);
    this.seconds = t.seconds;
    this.secondStart = UNIX_EPOCH_FILETIME + BigInt(t.seconds) * TICKS_PER_SECOND;
    this.prefix = t.text.slice(0, t.text.length - 7);
    this.out.seconds = t.seconds;
    this.out.text = t.text;
    return this.out;
  }
}
