/**
 * Paths in policies. Three Windows spellings mean one path: `C:\x`, `/C:/x` (passes
 * upstream's CRD patterns) and `%SystemRoot%\x`. `diagnosePath` finds what is wrong with
 * a path on any node; `canonicalPath` reduces a path to the one form the driver
 * matches for a flavour (DOS form with an upper-case drive letter and `\` on Windows;
 * `/`-separated on posix). Translation to NT device paths is the agent's job.
 */
import { Flavor } from '../../driver/abi/types.js';
import { driverPathProblem } from './limits.js';
import type { PathForm } from './types.js';

const DRIVE = /^[A-Za-z]:[\\/]/;
const CRD_DRIVE = /^\/+[A-Za-z]:([\\/]|$)/;
const ENV = /^%([A-Za-z0-9_()]+)%/;
const DEVICE = /^([\\/][\\/][?.][\\/]|\\\?\?\\|[\\/]device[\\/])/i;
const DOT_SEGMENT = /[\\/](\.{1,2})(?:[\\/]|$)/;

const FORM_WORDS: Record<PathForm, string> = { path: 'file path', directory: 'directory', pattern: 'pattern' };

/** What is wrong with a path on every kind of node, in words for its author; undefined when nothing. */
export function diagnosePath(value: string, form: PathForm): string | undefined {
  if (value === '') return `the ${FORM_WORDS[form]} is empty`;
  const limit = driverPathProblem(value);
  if (limit) return limit;
  // The common case in one pass: a drive path already in its plain form (a file path
  // ending in a separator, other than a drive's root, is told below).
  if (isPlainDos(value, form, false) && !(form === 'path' && value.length > 3 && value.endsWith('\\'))) return undefined;
  if (DEVICE.test(value)) return `"${value}" is a device or NT namespace path; write a drive path such as C:\\Windows\\System32\\cmd.exe`;
  if (/^[\\/][\\/](?![A-Za-z]:)/.test(value)) return `"${value}" looks like a UNC network share (\\\\server\\share); only local drive paths can be enforced`;
  const start = startProblem(value);
  if (start) return start;
  const dots = DOT_SEGMENT.exec(value);
  if (dots) return `"${value}" contains a "${dots[1]}" segment; write the absolute path without it`;
  return endProblem(value, form);
}

function startProblem(value: string): string | undefined {
  if (value.startsWith('%')) {
    return ENV.test(value) ? undefined : `"${value}" starts with "%" but not with an environment variable such as %SystemRoot%`;
  }
  if (value.startsWith('/') || DRIVE.test(value)) return undefined;
  if (/^[A-Za-z]:/.test(value)) return `"${value}" is relative to the current directory of drive ${value[0]}:; write ${value.slice(0, 2)}\\${value.slice(2)}`;
  if (value.startsWith('\\')) return `"${value}" has no drive letter; write C:${value} (or /C:${value.replace(/\\/g, '/')})`;
  return `"${value}" is a relative path; write an absolute path (C:\\..., /C:/..., %SystemRoot%\\... or /... on Linux)`;
}

function endProblem(value: string, form: PathForm): string | undefined {
  const endsInSeparator = /[\\/]$/.test(value);
  if (form === 'directory' && !endsInSeparator) {
    const sep = value.includes('\\') ? '\\' : '/';
    return `a directory must end in a separator: write "${value}${sep}"`;
  }
  if (form === 'path' && endsInSeparator && !/^(\/|[A-Za-z]:[\\/])$/.test(value)) {
    return `"${value}" ends in a separator, which names a directory; use matchDirectories with dir: "${value}"`;
  }
  return undefined;
}

export type CanonicalResult =
  | { ok: true; path: string }
  | { ok: false; code: 'environment' | 'flavor'; message: string };

export interface PathContext {
  flavor: Flavor;
  /** Upper-cased variable name → its written name and value. */
  environment: ReadonlyMap<string, { name: string; value: string }>;
}

/** The one form of an already diagnosed path for a flavour. */
export function canonicalPath(value: string, form: PathForm, context: PathContext): CanonicalResult {
  if (context.flavor === Flavor.Posix) {
    if (DRIVE.test(value) || CRD_DRIVE.test(value) || value.startsWith('%') || value.includes('\\')) {
      return { ok: false, code: 'flavor', message: `"${value}" is a Windows path; this node is posix-flavour (validate with --flavor windows)` };
    }
    return { ok: true, path: value.replace(/\/{2,}/g, '/') };
  }
  return windowsCanonical(value, form, context);
}

// What the filter manager removes from a name before a minifilter sees it.
const UNNORMALIZED = /[. ](?:\\|$)|::\$DATA$/i;
/** The default stream's name at the end of a path (Windows drops it). */
const DATA_STREAM = /::\$DATA$/i;

function windowsCanonical(value: string, form: PathForm, context: PathContext): CanonicalResult {
  const plain = plainDos(value, form, false);
  if (plain !== undefined) return { ok: true, path: plain };
  let path = value;
  const env = path.charCodeAt(0) === 0x25 ? ENV.exec(path) : null; // '%'
  if (env) {
    const found = context.environment.get(env[1]!.toUpperCase());
    if (!found) {
      const known = [...context.environment.values()].map((v) => `%${v.name}%`).join(', ');
      return { ok: false, code: 'environment', message: `unknown environment variable %${env[1]}%; known: ${known}` };
    }
    path = found.value + path.slice(env[0].length);
  }
  if (path.charCodeAt(0) === 0x2f && CRD_DRIVE.test(path)) path = path.replace(/^\/+/, '');
  if (!/^[A-Za-z]:([\\/]|$)/.test(path)) {
    return { ok: false, code: 'flavor', message: `"${value}" has no drive letter, so it cannot name a file on a Windows node; write C:\\..., /C:/... or %SystemRoot%\\... (or validate with --flavor posix)` };
  }
  // Expanded (%SystemRoot%\...) or written with slashes (/C:/...), most paths are plain now.
  const expanded = plainDos(path, form, true);
  if (expanded !== undefined) return { ok: true, path: expanded };
  path = path[0]!.toUpperCase() + ':\\' + path.slice(2).replace(/[\\/]+/g, '\\').replace(/^\\/, '');
  path = normalizedComponents(path, form);
  if (form === 'directory' && !path.endsWith('\\')) path += '\\';
  return { ok: true, path };
}

const BACKSLASH = 0x5c;
const SLASH = 0x2f;
const DOT = 0x2e;
const SPACE = 0x20;

/**
 * Whether `value` is already in its canonical form apart from its drive letter's case
 * (and, with `slashes`, `/` for `\`): a drive, then components between single
 * separators, none ending in a dot or a space, no final `::$DATA`, and a final separator
 * for a directory. One pass over the characters: the regular expressions it replaced
 * ran on every rule of a cold start.
 */
function isPlainDos(value: string, form: PathForm, slashes: boolean): boolean {
  const last = plainComponentsEnd(value, slashes);
  if (last < 0 || last === DOT || last === SPACE || (form === 'directory' && last !== BACKSLASH)) return false;
  return !(value.length >= 7 && value.charCodeAt(value.length - 7) === 0x3a && DATA_STREAM.test(value));
}

/** `value` in its canonical form when `isPlainDos`: drive letter upper-cased, `/` written `\`; undefined otherwise. */
function plainDos(value: string, form: PathForm, slashes: boolean): string | undefined {
  if (!isPlainDos(value, form, slashes)) return undefined;
  const path = slashes && value.includes('/') ? value.replaceAll('/', '\\') : value;
  return path.charCodeAt(0) >= 0x61 ? path[0]!.toUpperCase() + path.slice(1) : path;
}

/** A-Z or a-z. */
function isDriveLetter(c: number): boolean {
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x7a;
}

/**
 * After a drive (`C:` and a separator), components between single separators, none
 * ending in a dot or a space before a separator (`/` read as `\` with `slashes`): the
 * last character (a separator read as `\`); -1 when it is not so.
 */
function plainComponentsEnd(value: string, slashes: boolean): number {
  if (value.length < 3 || !isDriveLetter(value.charCodeAt(0)) || value.charCodeAt(1) !== 0x3a) return -1;
  let prev = 0;
  for (let i = 2; i < value.length; i++) {
    let c = value.charCodeAt(i);
    if (c === SLASH) {
      if (!slashes) return -1;
      c = BACKSLASH;
    }
    // The drive's separator; then no empty component, none ending in a dot or a space.
    if (i === 2 ? c !== BACKSLASH : c === BACKSLASH && (prev === BACKSLASH || prev === DOT || prev === SPACE)) return -1;
    prev = c;
  }
  return prev;
}

/**
 * The name the driver sees for `path` (FLT_FILE_NAME_NORMALIZED): trailing dots and
 * spaces dropped from every component and a final `::$DATA` (the default stream)
 * removed, as Windows does when it opens the file; a rule written `cmd.exe.` is a rule
 * on `cmd.exe`. Pattern components with wildcards are kept as written (`*.` is a pattern).
 */
function normalizedComponents(path: string, form: PathForm): string {
  if (!UNNORMALIZED.test(path)) return path;
  const parts = path.replace(DATA_STREAM, '').split('\\');
  const out = parts.map((part, i) => (i === 0 || (form === 'pattern' && /[*?]/.test(part)) ? part : part.replace(/[. ]+$/, '')));
  return out.filter((part, i) => part !== '' || i === 0 || i === out.length - 1).join('\\');
}

/**
 * Case folding as the Windows kernel does it (upper case, one character for one, so
 * `ß` stays `ß`); identity on posix.
 */
export function foldCase(path: string, flavor: Flavor): string {
  if (flavor !== Flavor.Windows) return path;
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(path)) return path.toUpperCase();
  let out = '';
  for (const ch of path) {
    const up = ch.toUpperCase();
    out += up.length === ch.length ? up : ch;
  }
  return out;
}
