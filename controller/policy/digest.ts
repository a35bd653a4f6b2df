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
 * The canonical JSON text of a value: mappings with sorted keys and without their unset
 * members, actions capitalised. Label maps (`matchLabels`) keep every entry, sorted: ""
 * is a label value. It is JSON.stringify of a canonical copy (integer-like keys first, as
 * it orders them; digest.test.ts compares it with the replacer definition), and the copy
 * reuses every part that is already canonical: a policy's rule entries mostly are, so
 * the native stringify writes them (and escapes their paths) without a copy each. Written
 * by hand in JavaScript, the same text took half as long again.
 */
export function canonicalJson(value: unknown, key: string): string {
  const canonical = canonicalValue(value, key);
  return canonical === undefined ? 'null' : JSON.stringify(canonical);
}

function canonicalValue(value: unknown, key: string): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const canonical = canonicalValue(item, String(i));
      if (canonical !== item && out === undefined) out = value.slice(0, i);
      out?.push(canonical);
    }
    return out ?? value;
  }
  return canonicalMapping(value as Record<string, unknown>, key === 'matchLabels');
}

/** The mapping itself when its keys are already in canonical order and its members canonical; else a canonical copy. */
function canonicalMapping(node: Record<string, unknown>, labels: boolean): Record<string, unknown> {
  const keys = jsonKeyOrder(sortedKeys(node));
  let out = inOrder(node, keys) ? undefined : copyOf(node, keys, 0);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const child = node[k];
    const member = memberOf(k, child, labels);
    // The first member that differs: a copy, with the members before it as they are.
    if (out === undefined && member !== child) out = copyOf(node, keys, i);
    if (out !== undefined && member !== undefined) out[k] = member;
  }
  return out ?? node;
}

/** What the canonical copy holds for a member; undefined when it is left out (unset, or not written by JSON). */
function memberOf(key: string, child: unknown, labels: boolean): unknown {
  if (!isWritten(child) || (!labels && isUnset(child))) return undefined;
  return !labels && key === 'action' && typeof child === 'string' ? capitalize(child) : canonicalValue(child, key);
}

/** The mapping's own keys are `keys`, in that order. */
function inOrder(node: Record<string, unknown>, keys: string[]): boolean {
  const written = Object.keys(node);
  if (written.length !== keys.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== written[i]) return false;
  return true;
}

/** A mapping without prototype (a key "__proto__" is a member like any other) holding `node`'s first `n` members of `keys`. */
function copyOf(node: Record<string, unknown>, keys: string[], n: number): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  for (let i = 0; i < n; i++) out[keys[i]!] = node[keys[i]!];
  return out;
}

/** What JSON.stringify writes as a member (it leaves out undefined, functions and symbols). */
const isWritten = (v: unknown): boolean => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol';

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
