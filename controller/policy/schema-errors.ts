/**
 * Schema errors in words a policy author understands: ajv's raw output (`must match
 * pattern "^\/+.*[^\/]$"`) becomes "a directory must end in a separator: write ...",
 * at the field path and with the position of the key or value it is about.
 */
import type { ErrorObject } from '../validation/index.js';
import { fieldPath } from './positions.js';
import { diagnosePath } from './paths.js';
import type { PathForm } from './types.js';

export interface SchemaFinding {
  field: string;
  /** Point at the key (unknown or missing fields) or at the value. */
  anchor: 'key' | 'value';
  message: string;
}

/** Decodes a JSON pointer against the data, telling array indexes from keys. */
export function pointerToField(pointer: string, data: unknown): string {
  let field = '';
  let node = data;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    const index = Array.isArray(node) ? Number(segment) : NaN;
    field = fieldPath(field, Number.isInteger(index) ? index : segment);
    node = (node as Record<string, unknown> | undefined)?.[segment];
  }
  return field;
}

export function translateSchemaError(error: ErrorObject, data: unknown): SchemaFinding {
  const field = pointerToField(error.instancePath, data);
  switch (error.keyword) {
    case 'required': {
      const missing = String(error.params.missingProperty);
      return { field: fieldPath(field, missing), anchor: 'key', message: `missing required field "${missing}"${requiredHint(missing)}` };
    }
    case 'additionalProperties': {
      const unknown = String(error.params.additionalProperty);
      const allowed = Object.keys((error.parentSchema?.properties as object | undefined) ?? {});
      return { field: fieldPath(field, unknown), anchor: 'key', message: `unknown field "${unknown}"; ${suggest(unknown, allowed)}` };
    }
    default:
      return { field, anchor: 'value', message: valueMessage(error, field) };
  }
}

function valueMessage(error: ErrorObject, field: string): string {
  const got = describe(error.data);
  switch (error.keyword) {
    case 'type':
      return `expected ${typeWords(String(error.params.type))}, got ${got}`;
    case 'enum':
      return `expected one of ${uniqueCaseless(error.params.allowedValues as unknown[]).join(', ')}; got ${got}`;
    case 'minimum':
    case 'maximum': {
      const s = error.parentSchema as { minimum?: number; maximum?: number } | undefined;
      return `expected a number from ${s?.minimum ?? '-∞'} to ${s?.maximum ?? '∞'}, got ${got}`;
    }
    case 'pattern':
      return patternMessage(field, error.data, String(error.params.pattern));
    default:
      return `${error.message ?? 'is invalid'} (got ${got})`;
  }
}

const PATTERN_WORDS: Record<string, string> = {
  protocol: 'a protocol: tcp, udp, icmp, icmpv6, raw, sctp, all (comma lists allowed)',
  capability: 'a Linux capability name without the CAP_ prefix, such as net_raw or sys_admin',
  execname: 'a program name without "/", such as cmd.exe',
};
const PATH_FORMS: Record<string, PathForm> = { path: 'path', dir: 'directory' };

function patternMessage(field: string, value: unknown, pattern: string): string {
  const last = /\.([A-Za-z]+)$/.exec(field)?.[1] ?? '';
  const form = PATH_FORMS[last];
  if (form && typeof value === 'string') {
    const diagnosis = diagnosePath(value, form);
    if (diagnosis) return diagnosis;
    return form === 'directory'
      ? `expected an absolute directory ending in a separator (C:\\Windows\\, /C:/Windows/, %SystemRoot%\\ or /etc/), got ${describe(value)}`
      : `expected an absolute file path (C:\\Windows\\x.exe, /C:/Windows/x.exe, %SystemRoot%\\x.exe or /usr/bin/x), got ${describe(value)}`;
  }
  const words = PATTERN_WORDS[last];
  return words ? `expected ${words}; got ${describe(value)}` : `got ${describe(value)}, which does not match the pattern ${pattern}`;
}

function requiredHint(missing: string): string {
  if (missing === 'nodeSelector') return ' (a host policy names its nodes with nodeSelector.matchLabels; {} selects every node)';
  return '';
}

function typeWords(type: string): string {
  const words: Record<string, string> = { integer: 'an integer', number: 'a number', string: 'a string', boolean: 'true or false', array: 'a list', object: 'a mapping (key: value)' };
  return type.split(',').map((t) => words[t] ?? t).join(' or ');
}

export function describe(value: unknown): string {
  if (value === null || value === undefined) return 'nothing (null)';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return JSON.stringify(value);
  return `${typeof value === 'boolean' ? 'the boolean' : 'the number'} ${String(value)}`;
}

function uniqueCaseless(values: unknown[]): string[] {
  const seen = new Map<string, string>();
  for (const v of values) if (!seen.has(String(v).toLowerCase())) seen.set(String(v).toLowerCase(), String(v));
  return [...seen.values()];
}

function suggest(unknown: string, allowed: string[]): string {
  const close = allowed
    .map((name) => ({ name, distance: editDistance(unknown.toLowerCase(), name.toLowerCase()) }))
    .filter((c) => c.distance <= Math.max(2, Math.floor(unknown.length / 4)))
    .sort((a, b) => a.distance - b.distance)[0];
  if (close) return `did you mean "${close.name}"?`;
  return allowed.length ? `allowed here: ${allowed.join(', ')}` : 'no fields are allowed here';
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}
