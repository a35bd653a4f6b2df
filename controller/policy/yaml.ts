/**
 * Splits a YAML or JSON text (JSON is YAML) into documents, each constructed on its
 * own so that one bad document does not hide the others. One YAML parser: js-yaml's
 * event parser, whose documents keep their events so positions can be computed when a
 * problem needs them. Two faster readers go first and give the same values or step
 * aside: JSON.parse for JSON (what the API server and gRPC clients send), and
 * ./yaml-common.ts for the common shape of policy YAML. Their documents carry no
 * events; positions then come from a lazy js-yaml parse (./locate.ts).
 */
import { CORE_SCHEMA, EVENT_ID, YAMLException, constructFromEvents, mergeTag, parseEvents, type Event } from 'js-yaml';
import { nodeOffset } from './positions.js';
import { readCommonYaml } from './yaml-common.js';
import type { PolicyLimits } from './limits.js';
import type { ProblemCode } from './types.js';

export interface RawDocument {
  index: number;
  /** Absent for JSON read by JSON.parse: positions then come from a lazy YAML parse. */
  events?: Event[];
  /** Offset of the document's first node. */
  start: number;
  value?: unknown;
  error?: TextError;
}

/** A problem found before any identity is known; offsets into the text. */
export interface TextError {
  code: ProblemCode;
  offset: number;
  message: string;
}

export type SplitResult = { documents: RawDocument[] } | { error: TextError };

export function splitDocuments(text: string, limits: PolicyLimits): SplitResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > limits.maxSourceBytes) {
    return { error: { code: 'limit.size', offset: -1, message: `the text is ${bytes} bytes; the limit is ${limits.maxSourceBytes} bytes (maxSourceBytes)` } };
  }
  const json = parseJson(text, limits);
  if (json) return { documents: [json] };
  const common = readCommonYaml(text, YAML_SCHEMA, limits);
  if (common) return { documents: common };
  return splitWithEvents(text, limits);
}

/** The documents as js-yaml's event parser reads them: the rule the faster readers are held to (yaml-common.test.ts). */
export function splitWithEvents(text: string, limits: PolicyLimits): SplitResult {
  let events: Event[];
  try {
    events = parseEvents(text, { maxDepth: limits.maxDepth });
  } catch (error) {
    return { error: yamlError(error, 'syntax') };
  }
  const documents: RawDocument[] = [];
  documentSlices(events).forEach((slice, index) => {
    const doc = constructDocument(text, slice, index, limits);
    if (doc) documents.push(doc);
  });
  return { documents };
}

/**
 * JSON (what the API server and gRPC clients send) is read with JSON.parse, about 20
 * times faster than the YAML parser; anything JSON.parse refuses goes the YAML way,
 * which reports the problem with its position.
 */
function parseJson(text: string, limits: PolicyLimits): RawDocument | undefined {
  const start = text.search(/\S/);
  if (start < 0 || text[start] !== '{') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (text.length - start > limits.maxDocumentBytes) {
    return { index: 0, start, error: { code: 'limit.size', offset: start, message: `the document is about ${text.length - start} bytes; the limit is ${limits.maxDocumentBytes} bytes (maxDocumentBytes)` } };
  }
  return { index: 0, start, value };
}

/** The events of each document, DOCUMENT to its POP. */
export function documentSlices(events: Event[]): Event[][] {
  const slices: Event[][] = [];
  let depth = 0;
  let begin = 0;
  for (let i = 0; i < events.length; i++) {
    const type = events[i]!.type;
    if (type === EVENT_ID.POP) {
      depth--;
      if (depth === 0) slices.push(events.slice(begin, i + 1));
    } else if (type === EVENT_ID.DOCUMENT || type === EVENT_ID.MAPPING || type === EVENT_ID.SEQUENCE) {
      if (depth === 0) begin = i;
      depth++;
    }
  }
  return slices;
}

/**
 * Merge keys (`<<: *base`) work as with kubectl (go-yaml supports them). A merged
 * `__proto__` key stays an own data property of the mapping (js-yaml builds mappings
 * with define semantics since the CVE-2025-64718 fix): it never reaches a prototype,
 * and the schema then refuses it as an unknown field (parse.test.ts).
 */
export const YAML_SCHEMA = CORE_SCHEMA.withTags(mergeTag);

/** Undefined for an empty document (skipped, as kubectl does). */
function constructDocument(text: string, events: Event[], index: number, limits: PolicyLimits): RawDocument | undefined {
  const first = events[1];
  const start = first ? nodeOffset(first) : -1;
  if (!first || (first.type === EVENT_ID.SCALAR && start < 0)) return undefined;
  const size = documentEnd(events) - start;
  if (size > limits.maxDocumentBytes) {
    const message = `the document is about ${size} bytes; the limit is ${limits.maxDocumentBytes} bytes (maxDocumentBytes)`;
    return { index, events, start, error: { code: 'limit.size', offset: start, message } };
  }
  try {
    const [value] = constructFromEvents(events, { source: text, schema: YAML_SCHEMA, maxAliases: limits.maxAliases });
    return { index, events, start, value };
  } catch (error) {
    return { index, events, start, error: yamlError(error, 'syntax') };
  }
}

function documentEnd(events: Event[]): number {
  let end = 0;
  for (const e of events) {
    if (e.type === EVENT_ID.SCALAR) end = Math.max(end, e.valueEnd);
    else if (e.type === EVENT_ID.MAPPING || e.type === EVENT_ID.SEQUENCE) end = Math.max(end, e.start);
    else if (e.type === EVENT_ID.ALIAS) end = Math.max(end, e.anchorEnd);
  }
  return end;
}

function yamlError(error: unknown, code: ProblemCode): TextError {
  if (!(error instanceof YAMLException)) return { code, offset: -1, message: String(error) };
  const reason = error.reason;
  if (/maxAliases/.test(reason)) {
    return { code: 'limit.aliases', offset: error.mark?.position ?? -1, message: `too many aliases (*ref) in one document; the limit is ${reason.match(/\((\d+)\)/)?.[1] ?? '?'} (maxAliases)` };
  }
  if (/depth/i.test(reason)) return { code: 'limit.depth', offset: error.mark?.position ?? -1, message: `${reason} (maxDepth)` };
  return { code, offset: error.mark?.position ?? -1, message: `YAML: ${reason}${hint(error)}` };
}

/** The commonest YAML mistake in Windows policies: an unquoted value starting with %VAR%. */
function hint(error: YAMLException): string {
  const mark = error.mark;
  if (!mark) return '';
  const line = mark.buffer.split('\n')[mark.line] ?? '';
  return /:\s+%/.test(line) ? ' (a value starting with % must be quoted: \'%SystemRoot%\\System32\\x.exe\')' : '';
}
