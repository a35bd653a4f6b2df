/**
 * A policy document read as a cluster and upstream's agent read it, before the schema
 * sees it. Same on every path (file, gRPC, CRD):
 *
 * - `null` is dropped from every mapping, as the Kubernetes API server prunes null
 *   from fields that are not nullable before it validates (none of a policy's are):
 *   `matchExpressions:` or `fromSource:` left empty is "not set". A warning names each
 *   dropped field of the spec; metadata nulls (`creationTimestamp: null`, sent by every
 *   Go client) are dropped silently.
 * - `action: ""` is "not set": Go clients (karmor) encode an unset action so, and
 *   upstream's agent reads it as the default.
 * - A `dir` without its trailing separator has one meaning (a directory); upstream's
 *   agent takes it, so kawin adds the separator and warns. A `path` ending in one is
 *   ambiguous (file or directory?) and stays an error (./paths.ts).
 *
 * The input is not changed: the result shares untouched subtrees with it.
 */
import { fieldPath } from './positions.js';
import type { Finding } from './normalize.js';

type Mapping = Record<string, unknown>;

export interface Prepared {
  value: Mapping;
  findings: Finding[];
}

/** Mappings whose nulls are dropped without a word: the API server's own fields. */
const QUIET = new Set(['metadata', 'status']);
/** Maps of user keys (labels): nulls dropped, nothing else read into them. */
const LITERAL = new Set(['matchLabels']);

type Mode = 'spec' | 'literal' | 'quiet';

export function prepareDocument(doc: Mapping): Prepared {
  const findings: Finding[] = [];
  const value: Mapping = {};
  for (const [key, v] of Object.entries(doc)) {
    if (v === null) {
      if (!QUIET.has(key) && key !== 'spec') findings.push(dropped(key));
      if (key === 'spec') findings.push(dropped('spec', 'the policy has no spec'));
      continue;
    }
    value[key] = prepare(v, key, findings, key === 'spec' ? 'spec' : QUIET.has(key) ? 'quiet' : 'literal');
  }
  return { value, findings };
}

function prepare(v: unknown, field: string, findings: Finding[], mode: Mode): unknown {
  if (Array.isArray(v)) return prepareList(v, field, findings, mode);
  if (typeof v !== 'object' || v === null) return v;
  const node = v as Mapping;
  let out: Mapping | undefined;
  for (const [key, child] of Object.entries(node)) {
    const next = prepareEntry(key, child, fieldPath(field, key), findings, mode);
    if (next === child) continue;
    out ??= { ...node };
    if (next === undefined) delete out[key];
    else out[key] = next;
  }
  return out ?? node;
}

function prepareList(v: unknown[], field: string, findings: Finding[], mode: Mode): unknown[] {
  let out: unknown[] | undefined;
  v.forEach((item, i) => {
    const next = prepare(item, `${field}[${i}]`, findings, mode);
    if (next !== item) (out ??= v.slice())[i] = next;
  });
  return out ?? v;
}

/** The value that stands for `child` (undefined: dropped). */
function prepareEntry(key: string, child: unknown, here: string, findings: Finding[], mode: Mode): unknown {
  if (child === null) {
    if (mode !== 'quiet') findings.push(dropped(here));
    return undefined;
  }
  if (mode !== 'spec') return prepare(child, here, findings, mode);
  if (key === 'action' && child === '') return undefined;
  if (key === 'dir' && typeof child === 'string') return directory(child, here, findings);
  return prepare(child, here, findings, LITERAL.has(key) ? 'literal' : 'spec');
}

function directory(dir: string, here: string, findings: Finding[]): string {
  if (dir === '' || /[\\/]$/.test(dir)) return dir;
  const fixed = `${dir}${dir.includes('\\') && !dir.includes('/') ? '\\' : '/'}`;
  findings.push({ severity: 'warning', code: 'document', field: here, anchor: 'value', message: `a directory is written with a trailing separator: read as "${fixed}"` });
  return fixed;
}

function dropped(field: string, what = 'not set'): Finding {
  return {
    severity: 'warning', code: 'document', field, anchor: 'key',
    message: `null dropped (${what}), as the Kubernetes API server does for a field that is not nullable`,
  };
}
