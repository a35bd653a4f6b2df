/**
 * The policy model after parsing, validation and normalization: what the compiler
 * consumes. Paths stay as the author wrote them (three Windows spellings allowed);
 * reducing them to one canonical form needs the node's flavour and environment, so it
 * happens at compile time (./paths.ts).
 */
import type { PolicyIdentity as StoreIdentity } from '../store/types.js';
import type { ActionName, PolicyKind } from './provenance.js';

export type { ActionName, PolicyKind } from './provenance.js';
export const POLICY_KINDS: readonly PolicyKind[] = ['KubeArmorHostPolicy', 'KubeArmorPolicy', 'KubeArmorClusterPolicy'];
export const API_GROUP = 'security.kubearmor.com';
export const API_VERSION = `${API_GROUP}/v1`;

/** The store's policy identity, with a kind kawin knows. */
export type PolicyIdentity = StoreIdentity<PolicyKind>;

/** Machine-readable class of a problem, for metrics and tests; `message` is for people. */
export type ProblemCode =
  | 'syntax' | 'encoding' | 'read' | 'limit.size' | 'limit.aliases' | 'limit.depth' | 'limit.driver'
  | 'document' | 'schema' | 'path' | 'environment' | 'flavor'
  | 'duplicate' | 'conflict' | 'unsupported' | 'skipped';

export interface PolicyProblem {
  severity: 'error' | 'warning';
  code: ProblemCode;
  /** File path, `gRPC hostPolicy`, CRD name: whatever the source said errors point at. */
  location: string;
  /** 1-based; 0 when unknown. */
  line: number;
  column: number;
  /** Field path in the document, e.g. `spec.file.matchPaths[2].path`; '' for the whole text. */
  path: string;
  message: string;
}

export type RuleTarget = 'process' | 'file';
export type PathForm = 'path' | 'directory' | 'pattern';

/** A program that a rule is limited to (KubeArmor `fromSource`). */
export interface SourceSpec {
  /** As written; a directory ends in a separator. */
  path: string;
  form: 'path' | 'directory';
  recursive: boolean;
  /** Field path of the written value, for error positions. */
  field: string;
}

/** One process or file entry, with severity/tags/message/action already inherited. */
export interface PolicyRule {
  target: RuleTarget;
  form: PathForm;
  /** The path, directory or pattern as written. */
  value: string;
  recursive: boolean;
  readOnly: boolean;
  action: ActionName;
  severity: number;
  tags: string[];
  message: string;
  /** Empty: applies to every program. */
  sources: SourceSpec[];
  /** Field path of the written value, e.g. `spec.file.matchPaths[2].path`. */
  field: string;
}

export interface HostSelector {
  type: 'node';
  matchLabels: Record<string, string>;
}
export interface WorkloadSelector {
  type: 'workload';
  matchLabels: Record<string, string>;
  matchExpressions: { key: string; operator: string; values: string[] }[];
}

/** Where a field sits in its source text (1-based). */
export interface Position {
  line: number;
  column: number;
}

/** A validated and normalized policy. */
export interface Policy {
  identity: PolicyIdentity;
  /** policyKey(identity). */
  key: string;
  location: string;
  /** Where the document starts. */
  line: number;
  /** Digest of the document's content: equal digests compile to equal rules. */
  digest: string;
  selector: HostSelector | WorkloadSelector;
  /** Spec-level action, severity, tags and message (defaults applied). */
  defaults: { action: ActionName; severity: number; tags: string[]; message: string };
  rules: PolicyRule[];
  /** Network and capability entries (comma lists expanded): validated, reported, not enforced on Windows. */
  unenforced: { category: string; value: string; field: string }[];
  /** Non-fatal findings of parsing and validation (unsupported fields, …). */
  warnings: PolicyProblem[];
  /** Position of a field path in the source; {0,0} when unknown. */
  locate(field: string): Position;
}

/** One document of a parsed text. */
export interface ParsedDocument {
  /** 0-based index among the text's documents (empty documents count). */
  index: number;
  line: number;
  /** Known when the document had a recognisable kind and name. */
  identity?: PolicyIdentity;
  key?: string;
  /** Set when there are no errors. */
  policy?: Policy;
  /** Errors and warnings, ordered by position. */
  problems: PolicyProblem[];
  /** True when the document is not a policy kawin handles (another apiVersion): skipped with a warning. */
  skipped: boolean;
}

export interface ParseResult {
  location: string;
  documents: ParsedDocument[];
  /** Problems of the text as a whole (syntax error, size limit): no document identities are known. */
  problems: PolicyProblem[];
}
