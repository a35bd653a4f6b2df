/**
 * The configured JSON-lines outputs as EventSinks: each selected record is serialized
 * once per output and queued on that output's bounded buffer; nothing here waits.
 */
import { Counter, type Registry } from 'prom-client';
import { realClock, type Clock } from '../clock/index.js';
import type { AlertRecord, EventSink, LogRecord, MessageRecord } from '../events/index.js';
import { BufferedLineOutput, type LineTarget, type OutputCounts } from './buffered.js';
import { OUTPUT_DEFAULTS, type OutputsConfig, type StreamOutputConfig } from './config.js';
import { jsonLine } from './jsonl.js';
import { RotatingFile } from './rotating-file.js';
import { streamTarget } from './stream-target.js';

export interface OutputDeps {
  registry: Registry;
  /** Where the stdout output writes (default process.stdout). */
  stdout?: NodeJS.WritableStream;
  clock?: Clock;
  observer?: OutputsObserver;
}

/** What the outputs tell (the notification style of docs/extending.md). */
export interface OutputsObserver {
  /** A write of output `output` failed. */
  failed?(output: string, error: Error): void;
}

export interface Outputs {
  sinks: EventSink[];
  /** Per output: lines written, dropped, write errors (and rotations for the file). */
  stats(): Record<string, OutputCounts & { rotations?: number }>;
  close(): Promise<void>;
}

class JsonLinesSink implements EventSink {
  constructor(readonly name: string, readonly out: BufferedLineOutput, private readonly select: StreamOutputConfig) {}
  alert(a: AlertRecord): void { if (this.select.alerts) this.out.push(jsonLine(a)); }
  log(l: LogRecord): void { if (this.select.logs) this.out.push(jsonLine(l)); }
  message(m: MessageRecord): void { if (this.select.messages ?? true) this.out.push(jsonLine(m)); }
  wants(kind: 'alert' | 'log'): boolean { return kind === 'alert' ? this.select.alerts : this.select.logs; }
}

export function createOutputs(config: OutputsConfig, deps: OutputDeps): Outputs {
  const clock = deps.clock ?? realClock;
  const made: { sink: JsonLinesSink; file?: RotatingFile }[] = [];
  const make = (name: string, target: LineTarget, c: StreamOutputConfig): JsonLinesSink => new JsonLinesSink(name,
    new BufferedLineOutput(target, {
      name, clock, maxBufferBytes: c.maxBufferBytes ?? OUTPUT_DEFAULTS.maxBufferBytes,
      observer: { failed: (e) => deps.observer?.failed?.(name, e) },
    }), c);
  if (config.stdout?.enabled) made.push({ sink: make('stdout', streamTarget(deps.stdout ?? process.stdout), config.stdout) });
  if (config.file?.enabled) {
    const f = config.file;
    const file = new RotatingFile({ path: f.path, maxBytes: f.maxBytes ?? OUTPUT_DEFAULTS.maxBytes, maxFiles: f.maxFiles ?? OUTPUT_DEFAULTS.maxFiles });
    made.push({ sink: make('file', file, f), file });
  }
  const stats = () => Object.fromEntries(made.map(({ sink, file }) =>
    [sink.name, { ...sink.out.counts, ...(file ? { rotations: file.rotations } : {}) }]));
  registerMetrics(deps.registry, stats);
  return {
    sinks: made.map((m) => m.sink),
    stats,
    async close() { await Promise.all(made.map((m) => m.sink.out.close())); },
  };
}

/** Counters read from the outputs' own counts at scrape time (no work per line). */
function registerMetrics(registry: Registry, stats: Outputs['stats']): void {
  const define = (name: string, help: string, pick: (c: OutputCounts & { rotations?: number }) => number | undefined) => {
    const seen = new Map<string, number>();
    new Counter({
      name, help, labelNames: ['output'], registers: [registry],
      collect() {
        for (const [output, counts] of Object.entries(stats())) {
          const v = pick(counts);
          if (v === undefined) continue;
          this.inc({ output }, v - (seen.get(output) ?? 0));
          seen.set(output, v);
        }
      },
    });
  };
  define('kawin_output_lines_total', 'JSON lines written, by output', (c) => c.lines);
  define('kawin_output_dropped_lines_total', 'JSON lines dropped (buffer full or write failed), by output', (c) => c.dropped);
  define('kawin_output_write_errors_total', 'Failed writes, by output', (c) => c.writeErrors);
  define('kawin_output_rotations_total', 'File rotations, by output', (c) => c.rotations);
}
