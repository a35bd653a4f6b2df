/**
 * Sources of desired state. A source only reports what it holds; the desired store
 * (controller/store) parses, validates and keeps last-known-good versions, so every
 * source gets the same validation and the same error reporting.
 */

/** One unit a source contributes: a file, a gRPC-applied policy, a CRD object. */
export interface SourceDocument {
  /** Stable identity of the unit within its source: file path, `grpc:<kind>/<name>`, … */
  origin: string;
  /** YAML or JSON text (multi-document allowed). */
  text: string;
  /** Where errors should point: a file path, `gRPC hostPolicy`, a CRD name. */
  location: string;
}

export interface SourceSink {
  /** The unit's whole content is now `doc.text` (level-based: replaces what it held). */
  upsert(source: string, doc: SourceDocument): void;
  /** The unit is gone: its policies are removed (only ever called by a source in sync). */
  remove(source: string, origin: string): void;
  /** The source's full set has been reported; `revision` is a digest of its content. */
  synced(source: string, revision: string): void;
  /** The source cannot currently see its desired state (nothing is pruned meanwhile). */
  failed(source: string, error: Error): void;
  /**
   * One unit could not be read (too large, unreadable): its previous version, if any,
   * stays in force, and the error belongs in that unit's status. Optional; a source
   * logs and counts the rejection either way.
   */
  rejected?(source: string, origin: string, error: Error): void;
}

export interface PolicySource {
  readonly name: string;
  start(sink: SourceSink): Promise<void>;
  stop(): Promise<void>;
}
