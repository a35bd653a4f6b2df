/** The store's view of parsing: what it needs from the policy module, nothing more. */
export interface PolicyIdentity {
  kind: string;
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
export interface ParsedDocument<P> {
  key: string;
  identity: PolicyIdentity;
  /** Present when the document is valid (warnings allowed). */
  policy?: P;
  /** Digest of the document's normalized content: equal digests mean an unchanged policy. */
  digest?: string;
  problems: Problem[];
}

export interface ParsedUnit<P> {
  documents: ParsedDocument<P>[];
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
