/**
 * JSON-lines outputs: alerts, logs and agent messages as one JSON object per line, to
 * stdout and/or a size-rotated file, behind bounded buffers that drop (counted) rather
 * than slow the event pipeline. See docs/events.md.
 */
export { createOutputs, type Outputs, type OutputDeps } from './outputs.js';
export { OUTPUT_DEFAULTS, type OutputsConfig, type StreamOutputConfig, type FileOutputConfig } from './config.js';
export { jsonLine } from './jsonl.js';
export { readableAlert, readableLog, readableMessage } from './readable.js';
