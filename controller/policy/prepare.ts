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
  const walk = new Walk();
  const value: Mapping = {};
  for (const key of Object.keys(doc)) {
    const v = doc[key];
    if (v === null) {
      if (key === 'spec') walk.findings.push(dropped('spec', 'the policy has no spec'));
      else if (!QUIET.has(key)) walk.findings.push(dropped(key));
      continue;
    }
    walk.path.push(key);
    value[key] = walk.value(v, key === 'spec' ? 'spec' : QUIET.has(key) ? 'quiet' : 'literal');
    walk.path.pop();
  }
  return { value, findings: walk.findings };
}

/**
 * One pass over the document. The field path is a stack of segments, joined only when
 * a finding needs it: a large policy (100k entries) has almost none, and building a
 * path string per node would cost more than the rest of the walk.
 */
class Walk {
  readonly findings: Finding[] = [];
  readonly path: (string | number)[] = [];

  value(v: unknown, mode: Mode): unknown {
    if (typeof v !== 'object' || v === null) return v;
    return Array.isArray(v) ? this.list(v, mode) : this.mapping(v as Mapping, mode);
  }

  private list(v: unknown[], mode: Mode): unknown[] {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const item = v[i];
      if (typeof item !== 'object' || item === null) continue;
      this.path.push(i);
      const next = this.value(item, mode);
      this.path.pop();
      if (next !== item) (out ??= v.slice())[i] = next;
    }
    return out ?? v;
  }

  private mapping(node: Mapping, mode: Mode): Mapping {
    let out: Mapping | undefined;
    for (const key in node) {
      const child = node[key];
      this.path.push(key);
      const next = this.entry(key, child, mode);
      this.path.pop();
      if (next === child) continue;
      out ??= { ...node };
      if (next === undefined) delete out[key];
      else out[key] = next;
    }
    return out ?? node;
  }

  /** The value that stands for `child` (undefined: dropped). */
  private entry(key: string, child: unknown, mode: Mode): unknown {
    if (child === null) {
      if (mode !== 'quiet') this.findings.push(dropped(this.field()));
      return undefined;
    }
    if (typeof child === 'string') {
      if (mode !== 'spec') return child;
      if (key === 'action' && child === '') return undefined;
      return key === 'dir' ? this.directory(child) : child;
    }
    if (typeof child !== 'object') return child;
    return this.value(child, mode !== 'spec' ? mode : LITERAL.has(key) ? 'literal' : 'spec');
  }

  private directory(dir: string): string {
    const last = dir.charCodeAt(dir.length - 1);
    if (dir === '' || last === 0x2f || last === 0x5c) return dir; // ends in / or \
    const fixed = `${dir}${dir.includes('\\') && !dir.includes('/') ? '\\' : '/'}`;
    this.findings.push({ severity: 'warning', code: 'document', field: this.field(), anchor: 'value', message: `a directory is written with a trailing separator: read as "${fixed}"` });
    return fixed;
  }

  private field(): string {
    let out = '';
    for (const segment of this.path) out = fieldPath(out, segment);
    return out;
  }
}

function dropped(field: string, what = 'not set'): Finding {
  return {
    severity: 'warning', code: 'document', field, anchor: 'key',
    message: `null dropped (${what}), as the Kubernetes API server does for a field that is not nullable`,
  };
}
