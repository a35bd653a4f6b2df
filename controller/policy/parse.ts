/**
 * parsePolicies: a YAML/JSON text → its documents, each validated against the CRD
 * schema, checked, normalized and tied to its location. One bad document never
 * hides or invalidates the others; every problem of a document is reported at once.
 */
import { LineIndex } from './positions.js';
import { TextLocator } from './locate.js';
import { POLICY_LIMITS, type PolicyLimits } from './limits.js';
import { identityProblem } from './names.js';
import { splitDocuments, type RawDocument, type TextError } from './yaml.js';
import { quickValidatorFor, validatorFor } from './schema.js';
import { describe, translateSchemaError } from './schema-errors.js';
import { normalizeSpec, type Finding } from './normalize.js';
import { prepareDocument } from './prepare.js';
import { meaningDigest } from './digest.js';
import {
  API_GROUP, API_VERSION, POLICY_KINDS,
  type ParseResult, type ParsedDocument, type PolicyIdentity, type PolicyKind, type PolicyProblem, type Position,
} from './types.js';

export interface ParseOptions {
  /** Overrides of POLICY_LIMITS. */
  limits?: Partial<PolicyLimits>;
}

/** The string key of a policy identity: `Kind/name` or `Kind/namespace/name`. */
export function policyKey(identity: PolicyIdentity): string {
  return identity.namespace === undefined ? `${identity.kind}/${identity.name}` : `${identity.kind}/${identity.namespace}/${identity.name}`;
}

export function parsePolicies(text: string, location: string, options: ParseOptions = {}): ParseResult {
  const limits = { ...POLICY_LIMITS, ...options.limits };
  const lines = new LineIndex(text);
  const split = splitDocuments(text, limits);
  if ('error' in split) {
    const at = lines.position(split.error.offset);
    return { location, documents: [], problems: [problemAt(split.error, location, at)] };
  }
  const locator = new TextLocator(text, lines);
  return { location, documents: split.documents.map((raw) => parseDocument(raw, location, locator)), problems: [] };
}

function problemAt(error: TextError, location: string, at: { line: number; column: number }): PolicyProblem {
  return { severity: 'error', code: error.code, location, ...at, path: '', message: error.message };
}

type Mapping = Record<string, unknown>;
interface Header { identity?: PolicyIdentity; skip?: string; findings: Finding[] }

function parseDocument(raw: RawDocument, location: string, locator: TextLocator): ParsedDocument {
  const doc: ParsedDocument = { index: raw.index, line: locator.lines.position(raw.start).line, problems: [], skipped: false };
  if (raw.error) {
    doc.problems.push(problemAt(raw.error, location, locator.lines.position(raw.error.offset)));
    return doc;
  }
  const { value, header } = readDocument(raw.value);
  doc.skipped = header.skip !== undefined;
  const identity = header.identity;
  if (!identity) {
    doc.problems = header.findings.map((f) => toProblem(f, location, raw, locator));
    return doc;
  }
  doc.identity = identity;
  doc.key = policyKey(identity);
  // No spec is valid in a cluster (upstream's CRD does not require one): nothing to enforce.
  const spec = (value as Mapping).spec ?? {};
  const findings = [...header.findings, ...schemaFindings(identity.kind, value)];
  // Normalized even when the schema failed, so semantic problems are reported too.
  const normalized = isMapping(spec) ? normalizeSpec(identity.kind, spec) : undefined;
  if (normalized) findings.push(...uniqueFindings(normalized.findings, findings));
  if (normalized && !findings.some((f) => f.severity === 'error')) {
    if (normalized.rules.length === 0) findings.push(documentWarning('spec', 'the policy has no process or file rules: nothing to enforce on Windows'));
    doc.policy = {
      identity, key: doc.key, location, line: doc.line,
      digest: meaningDigest(identity, spec),
      selector: normalized.selector, defaults: normalized.defaults, rules: normalized.rules, unenforced: normalized.unenforced,
      warnings: doc.problems,
      locate: locateIn(locator, raw.index),
    };
  }
  doc.problems.push(...findings.map((f) => toProblem(f, location, raw, locator)).sort(byPosition));
  return doc;
}

/** The document as a cluster reads it (./prepare.ts) and its header. */
function readDocument(raw: unknown): { value: unknown; header: Header } {
  if (!isMapping(raw)) return { value: raw, header: { findings: [documentError('', `a policy document must be a mapping with apiVersion, kind, metadata and spec; got ${describe(raw)}`)] } };
  const prepared = prepareDocument(raw);
  const header = readHeader(prepared.value);
  if (!header.skip) header.findings.unshift(...prepared.findings);
  if (header.identity && prepared.value.spec !== undefined && !isMapping(prepared.value.spec)) {
    header.findings.push(documentError('spec', `spec must be a mapping; got ${describe(prepared.value.spec)}`));
  }
  return { value: prepared.value, header };
}

/**
 * Made outside parseDocument on purpose: a closure there would share its context with
 * the other closures of that function, which capture `raw`, and a held policy would keep
 * its document's parser events and value tree alive (about 0.9 KB a rule).
 */
function locateIn(locator: TextLocator, index: number): (field: string) => Position {
  return (field) => locator.locate(index, field);
}

function readHeader(value: Mapping): Header {
  const { apiVersion, kind, metadata } = value;
  if (typeof apiVersion !== 'string') return { findings: [documentError('apiVersion', `missing apiVersion; expected ${API_VERSION}`)] };
  const group = apiVersion.split('/')[0];
  if (group !== API_GROUP) return { skip: 'group', findings: [skipped(`not a KubeArmor policy (apiVersion ${apiVersion}, kind ${String(kind)}): skipped`)] };
  if (apiVersion !== API_VERSION) return { findings: [documentError('apiVersion', `unsupported version "${apiVersion}"; expected ${API_VERSION}`)] };
  if (typeof kind !== 'string') return { findings: [documentError('kind', `missing kind; expected one of ${POLICY_KINDS.join(', ')}`)] };
  if (!POLICY_KINDS.includes(kind as PolicyKind)) {
    return { skip: 'kind', findings: [skipped(`kind "${kind}" is not handled by kawin (it handles ${POLICY_KINDS.join(', ')}): skipped`)] };
  }
  const header = readIdentity(kind as PolicyKind, metadata);
  return header;
}

/** Name and namespace, valid as Kubernetes requires (see names.ts). */
function readIdentity(kind: PolicyKind, metadata: unknown): Header {
  const name = isMapping(metadata) ? metadata.name : undefined;
  if (typeof name !== 'string' || name === '') return { findings: [documentError('metadata', 'missing metadata.name: every policy needs a name')] };
  const namespace = kind === 'KubeArmorPolicy' ? namespaceOf(metadata as Mapping) : undefined;
  const badIdentity = identityProblem(name, namespace);
  if (badIdentity) return { findings: [documentError(badIdentity.field, badIdentity.message)] };
  return { identity: { kind: kind as PolicyKind, ...(namespace !== undefined ? { namespace } : {}), name }, findings: [] };
}

// A namespaced policy without a namespace lands in "default", as with kubectl.
const namespaceOf = (metadata: Mapping): string => (typeof metadata.namespace === 'string' && metadata.namespace) || 'default';

function schemaFindings(kind: PolicyKind, value: unknown): Finding[] {
  if (quickValidatorFor(kind)(value)) return [];
  const validate = validatorFor(kind);
  if (validate(value)) return [];
  const seen = new Set<string>();
  const findings: Finding[] = [];
  for (const error of validate.errors ?? []) {
    const f = translateSchemaError(error, value);
    const id = `${f.field}\0${f.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    findings.push({ severity: 'error', code: 'schema', ...f });
  }
  return findings;
}

function toProblem(f: Finding, location: string, raw: RawDocument, locator: TextLocator): PolicyProblem {
  if (raw.events) locator.seed(raw.index, raw.events);
  const at = locator.locate(raw.index, f.field, f.anchor);
  return { severity: f.severity, code: f.code, location, line: at.line, column: at.column, path: f.field, message: f.message };
}

/** Findings not already reported for the same field with the same words. */
function uniqueFindings(more: Finding[], already: Finding[]): Finding[] {
  const seen = new Set(already.map((f) => `${f.field}\0${f.message}`));
  return more.filter((f) => !seen.has(`${f.field}\0${f.message}`));
}

const documentError = (field: string, message: string): Finding => ({ severity: 'error', code: 'document', field, anchor: 'key', message });
const documentWarning = (field: string, message: string): Finding => ({ severity: 'warning', code: 'document', field, anchor: 'key', message });
const skipped = (message: string): Finding => ({ severity: 'warning', code: 'skipped', field: '', anchor: 'value', message });

const isMapping = (v: unknown): v is Mapping => typeof v === 'object' && v !== null && !Array.isArray(v);

export function byPosition(a: PolicyProblem, b: PolicyProblem): number {
  return a.line - b.line || a.column - b.column || a.path.localeCompare(b.path);
}
