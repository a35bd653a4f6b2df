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
  const text = isUnset(spec) ? '{}' : canonicalJson(spec, '');
  return hash('sha256', `${identity.kind}\0${identity.namespace ?? ''}\0${identity.name}\0${text}`, 'hex').slice(0, 32);
}

/**
 * The canonical JSON text of a value (written directly: a JSON.stringify replacer made a
 * sorted copy of every mapping, the larger part of the digest's cost): mappings with
 * sorted keys and without their unset members, actions capitalised. Label maps
 * (`matchLabels`) keep every entry, sorted: "" is a label value. The text is the one
 * JSON.stringify gives for those sorted copies, integer-like keys first as it orders them
 * (digest.test.ts compares the two).
 */
export function canonicalJson(value: unknown, key: string): string {
  if (typeof value !== 'object' || value === null) return value === undefined ? 'null' : JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i > 0 ? ',' : '') + canonicalJson(value[i], String(i));
    return `${out}]`;
  }
  return canonicalMapping(value as Record<string, unknown>, key === 'matchLabels');
}

function canonicalMapping(node: Record<string, unknown>, labels: boolean): string {
  let out = '{';
  for (const k of jsonKeyOrder(sortedKeys(node))) {
    const child = node[k];
    if (!written(child) || (!labels && isUnset(child))) continue;
    const member = !labels && k === 'action' && typeof child === 'string' ? capitalize(child) : child;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(member, k)}`;
  }
  return `${out}}`;
}

/** What JSON.stringify writes as a member (it leaves out undefined, functions and symbols). */
const written = (v: unknown): boolean => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';

/** Array-index keys ("0", "7", not "07") come first in numeric order, as in any object's own keys. */
function jsonKeyOrder(keys: string[]): string[] {
  if (!keys.some(isIndexKey)) return keys;
  const indexes = keys.filter(isIndexKey).sort((a, b) => Number(a) - Number(b));
  return [...indexes, ...keys.filter((k) => !isIndexKey(k))];
}

const isIndexKey = (k: string): boolean => {
  const first = k.charCodeAt(0);
  return first >= 0x30 && first <= 0x39 && /^(?:0|[1-9]\d*)$/.test(k) && Number(k) < 4294967295;
};

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
