/**
 * How a log record becomes text: JSON lines for machines (one object per line, `time`,
 * `level`, `msg` first, then the fields) and a compact `key=value` line for people at a
 * terminal. Values JSON cannot carry (bigint generations, Errors with causes) are
 * converted here so no call site has to.
 */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFields = Record<string, unknown>;

export interface LogLine extends LogFields {
  time: string;
  level: LogLevel;
  msg: string;
}

const RESERVED = new Set(['time', 'level', 'msg', 'message']);

/** Build a record; fields named like the fixed keys are kept under a `field.` prefix. */
export function makeRecord(level: LogLevel, msg: string, fields: LogFields, time: Date): LogLine {
  const record: LogLine = { time: time.toISOString(), level, msg };
  for (const [key, value] of Object.entries(fields)) {
    record[RESERVED.has(key) ? `field.${key}` : key] = value;
  }
  return record;
}

/** JSON.stringify replacer: bigint as a decimal string, Error as {name, message, code, cause}. */
export function jsonValue(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Error) return errorObject(value);
  return value;
}

function errorObject(error: Error): Record<string, unknown> {
  const out: Record<string, unknown> = { name: error.name, message: error.message };
  const code = (error as { code?: unknown }).code;
  if (code !== undefined) out.code = code;
  if (error.cause !== undefined) out.cause = error.cause;
  return out;
}

export function jsonLine(record: LogLine): string {
  return JSON.stringify(record, jsonValue);
}

const COLOURS: Record<LogLevel, string> = { error: '\x1b[31m', warn: '\x1b[33m', info: '\x1b[32m', debug: '\x1b[90m' };

/** `2026-01-01T00:00:00.000Z INFO  reconciled rules=12 reconcileID=7` (level coloured when `colour`). */
export function textLine(record: LogLine, colour: boolean): string {
  const { time, level, msg, ...fields } = record;
  const tag = level.toUpperCase().padEnd(5);
  const parts = [time, colour ? `${COLOURS[level]}${tag}\x1b[0m` : tag, msg];
  for (const [key, value] of Object.entries(fields)) parts.push(`${key}=${textValue(value)}`);
  return parts.join(' ');
}

function textValue(value: unknown): string {
  if (value instanceof Error) return JSON.stringify(errorText(value));
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  return JSON.stringify(value, jsonValue) ?? String(value);
}

/** An error and its causes as one readable string: `outer: inner: root`. */
function errorText(error: Error): string {
  const cause = error.cause;
  if (cause instanceof Error) return `${error.message}: ${errorText(cause)}`;
  return cause === undefined ? error.message : `${error.message}: ${String(cause)}`;
}
