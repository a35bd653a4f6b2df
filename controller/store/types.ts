/** The store's view of parsing: what it needs from the policy module, nothing more. */
/** A policy is identified by (kind, namespace, name); host and cluster policies have no namespace. */
export interface PolicyIdentity<K extends string = string> {
  kind: K;
  namespace?: string;
  name: string;
}

export interface Problem {
  severity: 'error' | 'warning';
  location: string;
  line?: number;
  column?: number;
  path?: string;
  message: string;
}

/** One document of a source unit, parsed and validated. */
export interface CheckedDocument<P> {
  key: string;
  identity: PolicyIdentity;
  /** Present when the document is valid (warnings allowed). */
  policy?: P;
  /** Digest of the document's normalized content: equal digests mean an unchanged policy. */
  digest?: string;
  problems: Problem[];
}

export interface ParsedUnit<P> {
  documents: CheckedDocument<P>[];
  /** Problems that concern the whole text (syntax, size) or a document without identity. */
  problems: Problem[];
}

export type PolicyParser<P> = (text: string, location: string) => ParsedUnit<P>;

/** What is in force for one policy identity. */
export interface PolicyEntry<P> {
  key: string;
  identity: PolicyIdentity;
  source: string;
  origin: string;
  policy: P;
  digest?: string;
  warnings: Problem[];
  /** Errors of a newer version that was rejected (this, older, version stays in force). */
  rejected: Problem[];
}

export interface SourceStatus {
  name: string;
  inSync: boolean;
  revision?: string;
  error?: string;
  units: number;
}

/** What sources write into: the store's input port. */
/** One unit a source contributes: a file, a gRPC-applied policy, a CRD object. */
export interface SourceDocument {
  /** Stable identity of the unit within its source: file path, `grpc:<kind>/<name>`, `crd:<kind>/<name>`… */
  origin: string;
  /** YAML or JSON text (multi-document allowed). */
  text: string;
  /** Where errors should point: a file path, `gRPC hostPolicy`, a CRD object's name. */
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
   * stays in force, and the error belongs in that unit's status.
   */
  rejected(source: string, origin: string, error: Error): void;
  /**
   * Optional: a batch of units about to be upserted. The store may prepare (parse,
   * validate, compile) them off the main thread; the source upserts doc `i` once
   * `ready(i)` resolves, so the first units are merged while the rest are prepared.
   */
  prepare?(source: string, docs: readonly SourceDocument[]): PrepareProgress;
}

/** A batch being prepared off the main thread. */
export interface PrepareProgress {
  /** Resolves once the batch's doc `index` is prepared (or, if preparing failed, will be parsed on upsert). */
  ready(index: number): Promise<void>;
  /** Resolves once every doc of the batch is. */
  readonly done: Promise<void>;
}

