/**
 * The fast way to read a YAML policy text: js-yaml 4.1.0 (installed as `js-yaml-fast`)
 * builds plain values about 4 times faster than js-yaml 5's event parser (1k bench
 * policies, 5.5 MiB: ~165 ms against ~630 ms of CPU on a loaded machine), which
 * remains the reference (`js-yaml`, used for positions, aliases, merge keys and
 * every error). Why not the reverse (js-yaml 4 as the only parser): js-yaml 4 has no
 * positions, no alias limit (an alias bomb would expand in JSON.stringify and ajv)
 * and no depth limit, and 5's error messages are what the goldens pin.
 *
 * So the fast path only takes texts where it is known to give exactly what the event
 * path gives, and answers `undefined` (use the event path) for anything else:
 * - anchors, aliases, tags, explicit keys, merge keys, collections as keys,
 *   directives, `...` markers, byte order marks, tabs (js-yaml 5 is stricter about
 *   them), flow scalars or collections continued on another line (a conservative
 *   text scan: false alarms only cost speed);
 * - any error js-yaml 4 throws (the event path reports it with 5's words and position);
 * - a document that is not a mapping, nests deeper than maxDepth - 2 collections, or
 *   might exceed maxDocumentBytes;
 * - a document count that disagrees with the `---` scan.
 * Plain scalars resolve with js-yaml 5's own core-schema resolvers, so `0o17`,
 * `1_000`, `yes` or `~` mean the same on both paths. Positions are computed only when
 * a problem or `Policy.locate` needs them, by re-parsing that one document (locate.ts).
 */
import { FAILSAFE_SCHEMA, Type, loadAll } from 'js-yaml-fast';
import { NOT_RESOLVED, boolCoreTag, floatCoreTag, intCoreTag, nullCoreTag, type ScalarTagDefinition } from 'js-yaml';
import { needsEventParser } from './fast-scan.js';
import type { PolicyLimits } from './limits.js';

/** A document's part of the text: from its `---` line (or the text start) to the next. */
export interface Segment {
  begin: number;
  end: number;
}

/** A document read by the fast path: no events; `segment` is re-parsed for positions. */
export interface FastDocument {
  index: number;
  start: number;
  value: unknown;
  segment: Segment;
}

interface ScannedSegment extends Segment {
  /** Offset of the first node (not space, not comment); -1 for an empty document. */
  content: number;
}

/**
 * js-yaml 5's resolver as a js-yaml 4 type. js-yaml 4 tries every implicit type on
 * every plain scalar (keys and paths included), so the first-character filter that
 * js-yaml 5 applies is applied here too. js-yaml 4 calls construct right after a
 * successful resolve: the value is kept between the two calls.
 */
function implicitType(tag: ScalarTagDefinition<unknown>): Type {
  const first = new Set(tag.implicitFirstChars ?? []);
  const filtered = tag.implicitFirstChars !== null;
  let resolved: unknown;
  return new Type(tag.tagName, {
    kind: 'scalar',
    resolve: (source) => {
      if (filtered && !first.has(source.length > 0 ? source[0]! : '')) return false;
      resolved = tag.resolve(source, false, tag.tagName);
      return resolved !== NOT_RESOLVED;
    },
    construct: () => resolved,
  });
}

// Same order as js-yaml 5's CORE_SCHEMA (null, bool, int, float): the first match wins.
const SCHEMA = FAILSAFE_SCHEMA.extend({ implicit: ([nullCoreTag, boolCoreTag, intCoreTag, floatCoreTag] as ScalarTagDefinition<unknown>[]).map(implicitType) });

const MARKER = /^---(?=[ \t\r\n]|$)/gm;

/** The documents of a YAML text, or undefined when the event path must read it. */
export function fastDocuments(text: string, limits: PolicyLimits): FastDocument[] | undefined {
  if (needsEventParser(text)) return undefined;
  let values: unknown[];
  try {
    values = loadAll(text, null, { schema: SCHEMA });
  } catch {
    // Syntax errors, and stack exhaustion on absurd nesting: the event path has the words (and the limit).
    return undefined;
  }
  const segments = scanSegments(text);
  if (segments.length !== values.length) return undefined;
  const documents: FastDocument[] = [];
  for (let index = 0; index < segments.length; index++) {
    const { begin, end, content } = segments[index]!;
    const value = values[index];
    // An empty document is skipped (its index still counts), as on the event path.
    if (content < 0 && value === null) continue;
    if (content < 0 || !isMapping(value) || end - content > limits.maxDocumentBytes || deeperThan(value, limits.maxDepth - 2)) return undefined;
    documents.push({ index, start: content, value, segment: { begin, end } });
  }
  return documents;
}

/**
 * Documents as YAML delimits them: a `---` at the start of a line (then space or end
 * of line) begins one, wherever it is, even inside a block scalar. Text before the
 * first marker is a document only when it holds a node.
 */
function scanSegments(text: string): ScannedSegment[] {
  const segments: ScannedSegment[] = [];
  let begin = 0;
  let explicit = false;
  const close = (end: number): void => {
    const content = firstNode(text, explicit ? begin + 3 : begin, end);
    if (explicit || content >= 0) segments.push({ begin, end, content });
  };
  MARKER.lastIndex = 0;
  for (let match = MARKER.exec(text); match; match = MARKER.exec(text)) {
    close(match.index);
    begin = match.index;
    explicit = true;
  }
  close(text.length);
  return segments;
}

/** Offset of the first character that is neither white space nor in a comment; -1 if none. */
function firstNode(text: string, from: number, end: number): number {
  let i = from;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c === 0x23 /* # */) {
      const eol = text.indexOf('\n', i);
      i = eol < 0 ? end : eol + 1;
    } else if (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) {
      i++;
    } else {
      return i;
    }
  }
  return -1;
}

const isMapping = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True when `value` nests more than `levels` collections (a mapping at the top is one). */
function deeperThan(value: unknown, levels: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (levels <= 0) return true;
  if (Array.isArray(value)) return value.some((child) => deeperThan(child, levels - 1));
  // for…in allocates nothing (Object.values would, for every mapping of every policy).
  for (const key in value) if (deeperThan((value as Record<string, unknown>)[key], levels - 1)) return true;
  return false;
}
