/**
 * The agent's structured logger. Callers see only `Logger` (message plus key/values,
 * children carrying fields such as a reconcileID); winston writes the lines: JSON lines
 * by default, readable text when stdout is a terminal (`format: auto`), and JSON lines
 * to an optional file.
 */
import winston from 'winston';
import { Writable } from 'node:stream';
import { jsonLine, makeRecord, textLine, type LogFields, type LogLevel, type LogLine } from './log-format.js';

export type { LogFields, LogLevel, LogLine } from './log-format.js';
export type LogFormat = 'auto' | 'json' | 'text';

export interface Logger {
  error(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  debug(msg: string, fields?: LogFields): void;
  /** A logger adding `fields` to every line; shares the level with its parent. */
  child(fields: LogFields): Logger;
  /** Change the level of the whole logger tree (root and every child). */
  setLevel(level: LogLevel): void;
  readonly level: LogLevel;
}

export interface LoggingOptions {
  level?: LogLevel;
  format?: LogFormat;
  /** Also append JSON lines to this file, rotated beyond maxFileBytes keeping maxFiles files. */
  file?: string;
  maxFileBytes?: number;
  maxFiles?: number;
  /** Console stream (default process.stdout); `auto` picks text when it is a TTY. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean };
}

export interface RootLogger extends Logger {
  /** Replace format, file and level (live config change); children follow. */
  reconfigure(options: LoggingOptions): void;
  /** Flush and close the file transport. */
  close(): Promise<void>;
}

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3 };
const RECORD = Symbol('kawin.record');

type Info = winston.Logform.TransformableInfo & { [RECORD]?: LogLine };

const asJson = winston.format.printf((info: Info) => jsonLine(info[RECORD]!));
const asText = (colour: boolean) => winston.format.printf((info: Info) => textLine(info[RECORD]!, colour));

function transportsFor(options: LoggingOptions): winston.transport[] {
  const stream = options.stream ?? process.stdout;
  const format = options.format ?? 'auto';
  const text = format === 'text' || (format === 'auto' && stream.isTTY === true);
  const out: winston.transport[] = [
    new winston.transports.Stream({ stream: stream as Writable, format: text ? asText(stream.isTTY === true) : asJson }),
  ];
  if (options.file) {
    // tailable: the newest lines are always in `file`; older ones in file1, file2, …
    out.push(new winston.transports.File({
      filename: options.file, format: asJson, maxsize: options.maxFileBytes, maxFiles: options.maxFiles, tailable: true,
    }));
  }
  return out;
}

class WinstonLogger implements RootLogger {
  constructor(
    private readonly root: winston.Logger,
    private readonly fields: LogFields,
    private readonly stream?: LoggingOptions['stream'],
  ) {}

  get level(): LogLevel {
    return this.root.level as LogLevel;
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
    return new WinstonLogger(this.root, { ...this.fields, ...fields }, this.stream);
  }

  setLevel(level: LogLevel): void {
    this.root.level = level;
  }

  reconfigure(options: LoggingOptions): void {
    // The console stream is the one given at creation (a service has none) unless replaced.
    const stream = options.stream ?? this.stream;
    this.root.configure({ levels: LEVELS, level: options.level ?? this.level, transports: transportsFor({ ...options, stream }) });
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.root.once('finish', () => resolve());
      this.root.end();
    });
  }

  private write(level: LogLevel, msg: string, fields?: LogFields): void {
    if (LEVELS[level] > LEVELS[this.level]) return;
    const record = makeRecord(level, msg, { ...this.fields, ...fields }, new Date());
    this.root.log({ level, message: msg, [RECORD]: record });
  }
}

export function createLogger(options: LoggingOptions = {}): RootLogger {
  const root = winston.createLogger({ levels: LEVELS, level: options.level ?? 'info', transports: transportsFor(options), exitOnError: false });
  return new WinstonLogger(root, {}, options.stream);
}
