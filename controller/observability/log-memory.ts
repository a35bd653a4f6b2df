import { makeRecord, type LogFields, type LogLevel, type LogLine } from './log-format.js';
import type { Logger } from './log.js';

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };

/** A Logger that keeps records in memory, for tests that assert what was logged. */
export class MemoryLogger implements Logger {
  constructor(
    readonly records: LogLine[] = [],
    private readonly fields: LogFields = {},
    private readonly shared = { level: 'debug' as LogLevel },
  ) {}

  get level(): LogLevel {
    return this.shared.level;
  }
  error(msg: string, fields?: LogFields): void {
    this.write('error', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.write('warn', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.write('info', msg, fields);
  }
  debug(msg: string, fields?: LogFields): void {
    this.write('debug', msg, fields);
  }
  child(fields: LogFields): Logger {
    return new MemoryLogger(this.records, { ...this.fields, ...fields }, this.shared);
  }
  setLevel(level: LogLevel): void {
    this.shared.level = level;
  }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVELS[level] <= LEVELS[this.shared.level]) this.records.push(makeRecord(level, msg, { ...this.fields, ...fields }, new Date()));
  }
}

const ignore = (): void => undefined;

/** A Logger that drops everything. */
export const silentLogger: Logger = {
  level: 'error',
  error: ignore,
  warn: ignore,
  info: ignore,
  debug: ignore,
  child: () => silentLogger,
  setLevel: ignore,
};
