/**
 * `outputs` in the agent config: JSON-lines copies of alerts, logs and agent messages
 * for people who ship logs with their own collectors.
 */

export interface StreamOutputConfig {
  enabled: boolean;
  alerts: boolean;
  logs: boolean;
  /** Agent SystemEvent messages (lost events); on by default so loss is never silent. */
  messages?: boolean;
  /** Lines waiting for the writer, in bytes (UTF-16 code units); beyond it the oldest drop. */
  maxBufferBytes?: number;
}

export interface FileOutputConfig extends StreamOutputConfig {
  path: string;
  /** Rotate before the file would grow past this many bytes. */
  maxBytes?: number;
  /** Rotated files kept (`path.1` … `path.<maxFiles>`). */
  maxFiles?: number;
}

export interface OutputsConfig {
  stdout?: StreamOutputConfig;
  file?: FileOutputConfig;
}

export const OUTPUT_DEFAULTS = {
  maxBufferBytes: 16 * 1024 * 1024,
  maxBytes: 100 * 1024 * 1024,
  maxFiles: 5,
} as const;
