/**
 * Event time (Unix microseconds, from the driver client) to KubeArmor's time fields:
 * `Timestamp` (Unix seconds, int64) and `UpdatedTime` (RFC 3339 UTC with microseconds,
 * upstream's `2006-01-02T15:04:05.000000Z`). Events arrive in time order, so the
 * formatter keeps the text of the current second and only builds a Date when the
 * second changes.
 */

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

/** Six-digit microsecond text (0 ≤ micros < 10^6). */
const microText = (micros: number): string => String(1_000_000 + micros).slice(1);

/** Stateless conversion of Unix microseconds; the pipeline uses the caching TimeFormatter below. */
export function microsToEventTime(micros: number): EventTime {
  const seconds = Math.floor(micros / 1_000_000);
  return { seconds, text: `${secondPrefix(seconds)}${microText(micros - seconds * 1_000_000)}Z` };
}

/** Unix milliseconds to EventTime (for messages the agent itself makes). */
export function unixMillisToEventTime(ms: number): EventTime {
  return microsToEventTime(Math.round(ms * 1000));
}

/**
 * Caches the current second: converting an event of the same second costs a
 * subtraction and a short string. Returns a shared result object (read it before the
 * next call).
 */
export class TimeFormatter {
  private secondStart = NaN;
  private prefix = '';
  private readonly out: EventTime = { seconds: 0, text: '' };

  format(micros: number): EventTime {
    const within = micros - this.secondStart;
    if (!(within >= 0 && within < 1_000_000)) return this.newSecond(micros);
    this.out.text = `${this.prefix}${microText(within)}Z`;
    return this.out;
  }

  private newSecond(micros: number): EventTime {
    const t = microsToEventTime(micros);
    this.secondStart = t.seconds * 1_000_000;
    this.prefix = t.text.slice(0, t.text.length - 7);
    this.out.seconds = t.seconds;
    this.out.text = t.text;
    return this.out;
  }
}
