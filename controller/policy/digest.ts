/**
 * The digest of what a policy means, not of how it was written: two encodings of the
 * same policy (YAML from a file, karmor's JSON re-encoding with its empty sections and
 * zero values, keys in another order) have the same digest, so re-sending a policy
 * answers Applied rather than Modified and recompiles nothing.
 *
 * Dropped as "not set" (every KubeArmor field defaults to its zero value): null, false,
 * "", empty mappings and empty lists. Keys are sorted; actions compared capitalised.
 * Label maps keep every entry: a label's value "" is a value.
 */
import { hash } from 'node:crypto';
import type { PolicyIdentity } from './types.js';

const LITERAL = new Set(['matchLabels']);

export function meaningDigest(identity: PolicyIdentity, spec: unknown): string {
  const text = canonical(spec, false) ?? '{}';
  return hash('sha256', `${identity.kind}\0${identity.namespace ?? ''}\0${identity.name}\0${text}`, 'hex').slice(0, 32);
}

/** The canonical text of a value, or undefined when it means "not set". */
function canonical(v: unknown, literal: boolean): string | undefined {
  if (v === null || v === undefined || v === false || v === '') return undefined;
  if (Array.isArray(v)) {
    // Entries of a list keep their places, even an empty one ({}): positions are meaning.
    return v.length === 0 ? undefined : `[${v.map((item) => canonical(item, literal) ?? 'null').join(',')}]`;
  }
  return typeof v === 'object' ? canonicalMapping(v as Record<string, unknown>, literal) : JSON.stringify(v);
}

function canonicalMapping(v: Record<string, unknown>, literal: boolean): string | undefined {
  const parts: string[] = [];
  for (const key of Object.keys(v).sort()) {
    const child = v[key];
    const text = literal ? JSON.stringify(child) : canonical(key === 'action' && typeof child === 'string' ? capitalize(child) : child, LITERAL.has(key));
    if (text !== undefined) parts.push(`${JSON.stringify(key)}:${text}`);
  }
  return parts.length > 0 ? `{${parts.join(',')}}` : undefined;
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
