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

export function meaningDigest(identity: PolicyIdentity, spec: unknown): string {
  const text = isUnset(spec) ? '{}' : JSON.stringify(spec, canonicalize);
  return hash('sha256', `${identity.kind}\0${identity.namespace ?? ''}\0${identity.name}\0${text}`, 'hex').slice(0, 32);
}

/**
 * JSON.stringify's replacer: each mapping becomes a copy with sorted keys and without
 * its unset members, actions capitalised. Label maps (`matchLabels`) are kept as they
 * are, but sorted: "" is a label value.
 */
function canonicalize(this: unknown, key: string, value: unknown): unknown {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  const labels = key === 'matchLabels';
  const node = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const k of sortedKeys(node)) {
    const child = node[k];
    if (labels) out[k] = child;
    else if (!isUnset(child)) out[k] = k === 'action' && typeof child === 'string' ? capitalize(child) : child;
  }
  return out;
}

/** null, false, "", and mappings or lists with nothing set: every KubeArmor field defaults to these. */
function isUnset(v: unknown): boolean {
  if (v === null || v === undefined || v === false || v === '') return true;
  if (typeof v !== 'object') return false;
  if (Array.isArray(v)) return v.length === 0;
  for (const k in v) if (!isUnset((v as Record<string, unknown>)[k])) return false;
  return true;
}

/** Insertion sort: a policy's mappings have a handful of keys, where it beats Array#sort. */
function sortedKeys(v: Record<string, unknown>): string[] {
  const keys = Object.keys(v);
  for (let i = 1; i < keys.length; i++) {
    const key = keys[i]!;
    let j = i - 1;
    for (; j >= 0 && keys[j]! > key; j--) keys[j + 1] = keys[j]!;
    keys[j + 1] = key;
  }
  return keys;
}

const capitalize = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1).toLowerCase();
