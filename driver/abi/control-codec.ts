/**
 * The control device's IOCTL inputs and outputs: the versioned header, APPLY / ADD_RULES /
 * REMOVE_RULES requests and their result, LIST_RULES pages (config and state: state-codec.ts).
 * Encoders exist for every struct (the client needs the requests, tests the answers).
 */
import { APPLY_REQUEST, APPLY_RESULT, HEADER, LIST_REQUEST, LIST_RESPONSE } from './layout.js';
import { decodeRuleAt, encodeRuleAt, RuleBatchEncoder, ruleSize, type Cursor, type PathParts } from './rules-codec.js';
import { ABI_VERSION, LIST_FLAG_MORE, type ApplyResult, type DriverRule } from './types.js';
import { AbiDecodeError, checkU64, dataView, need, textView } from './wire.js';
import type { RuleRecords } from './rule-records.js';

export interface WireHeader { version: number; size: number; flags: number; count: number; totalSize: number }

export function cursorOf(bytes: Uint8Array, length = bytes.byteLength): Cursor {
  if (length > bytes.byteLength) throw new AbiDecodeError('buffer', 0, `length ${length} exceeds ${bytes.byteLength} bytes`);
  return { view: dataView(bytes), text: textView(bytes), end: length };
}

export function alloc(size: number): { bytes: Uint8Array; view: DataView } {
  const bytes = new Uint8Array(size);
  return { bytes, view: dataView(bytes) };
}

export function writeHeader(view: DataView, at: number, count: number, totalSize: number, flags = 0): void {
  view.setUint16(at + HEADER.fields.Version, ABI_VERSION, true);
  view.setUint16(at + HEADER.fields.Size, HEADER.size, true);
  view.setUint32(at + HEADER.fields.Flags, flags, true);
  view.setUint32(at + HEADER.fields.Count, count, true);
  view.setUint32(at + HEADER.fields.TotalSize, totalSize, true);
}

/** Reads and checks a KAWIN_HEADER that must cover at least `minTotal` of the `c.end` bytes. */
export function readHeader(c: Cursor, at: number, structName: string, minTotal: number): WireHeader {
  need(structName, at, minTotal, c.end);
  const v = c.view;
  const h = {
    version: v.getUint16(at + HEADER.fields.Version, true),
    size: v.getUint16(at + HEADER.fields.Size, true),
    flags: v.getUint32(at + HEADER.fields.Flags, true),
    count: v.getUint32(at + HEADER.fields.Count, true),
    totalSize: v.getUint32(at + HEADER.fields.TotalSize, true),
  };
  if (h.version !== ABI_VERSION) throw new AbiDecodeError(structName, at, `Header.Version ${h.version}, expected ${ABI_VERSION}`);
  if (h.size !== HEADER.size) throw new AbiDecodeError(structName, at, `Header.Size ${h.size}, expected ${HEADER.size}`);
  if (h.totalSize < minTotal || at + h.totalSize > c.end) {
    throw new AbiDecodeError(structName, at, `Header.TotalSize ${h.totalSize} outside ${minTotal}..${c.end - at}`);
  }
  return h;
}

/** Decodes `count` rule records from `at`; they must end exactly at `end`. */
function readRules(c: Cursor, at: number, count: number, end: number, structName: string): DriverRule[] {
  const rules: DriverRule[] = [];
  const window = { ...c, end };
  for (let i = 0; i < count; i++) {
    const { rule, size } = decodeRuleAt(window, at);
    rules.push(rule);
    at += size;
  }
  if (at !== end) throw new AbiDecodeError(structName, at, `${end - at} bytes after the last of ${count} records`);
  return rules;
}

export function applyRequestSize(removeCount: number, add: readonly DriverRule[], parts?: PathParts): number {
  let size = APPLY_REQUEST.size + removeCount * 8;
  for (const r of add) size += ruleSize(r, parts);
  return size;
}

export function encodeApplyRequest(expectedGeneration: bigint, remove: readonly bigint[], add: readonly DriverRule[], parts?: PathParts): Uint8Array {
  const steps = encodeApplyRequestInSteps(expectedGeneration, remove, add, Infinity, parts);
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}

/**
 * The same encoding in steps of `rulesPerStep` rules (sizing, then writing): a caller that
 * must not hold its thread for long (the agent's event loop during a 100k-rule APPLY)
 * yields between steps. The request is still one buffer, sent as one atomic IOCTL.
 */
export function* encodeApplyRequestInSteps(
  expectedGeneration: bigint, remove: readonly bigint[], add: readonly DriverRule[], rulesPerStep: number, parts?: PathParts,
): Generator<void, Uint8Array, void> {
  checkU64('expected generation', expectedGeneration, true);
  if (!(rulesPerStep >= 1)) throw new RangeError(`rulesPerStep must be at least 1, got ${rulesPerStep}`);
  const rules = new RuleBatchEncoder(add, parts);
  let total = APPLY_REQUEST.size + remove.length * 8;
  for (let from = 0; from < add.length; from += rulesPerStep) {
    total += rules.measure(from, Math.min(add.length, from + rulesPerStep));
    if (from + rulesPerStep < add.length) yield;
  }
  if (add.length >= rulesPerStep) yield;
  const { bytes, view } = alloc(total);
  writeHeader(view, 0, remove.length + add.length, total);
  view.setBigUint64(APPLY_REQUEST.fields.ExpectedGeneration, expectedGeneration, true);
  view.setUint32(APPLY_REQUEST.fields.RemoveCount, remove.length, true);
  view.setUint32(APPLY_REQUEST.fields.AddCount, add.length, true);
  let at = writeIds(view, APPLY_REQUEST.size, remove);
  for (let from = 0; from < add.length; from += rulesPerStep) {
    at = rules.write(view, at, from, Math.min(add.length, from + rulesPerStep));
    if (from + rulesPerStep < add.length) yield;
  }
  return bytes;
}

function writeIds(view: DataView, at: number, ids: readonly bigint[]): number {
  for (const id of ids) {
    checkU64('rule id', id, false);
    view.setBigUint64(at, id, true);
    at += 8;
  }
  return at;
}

export function decodeApplyRequest(bytes: Uint8Array): { expectedGeneration: bigint; remove: bigint[]; add: DriverRule[] } {
  const c = cursorOf(bytes);
  const NAME = 'KAWIN_APPLY_REQUEST';
  const h = readHeader(c, 0, NAME, APPLY_REQUEST.size);
  const removeCount = c.view.getUint32(APPLY_REQUEST.fields.RemoveCount, true);
  const addCount = c.view.getUint32(APPLY_REQUEST.fields.AddCount, true);
  if (removeCount + addCount !== h.count) throw new AbiDecodeError(NAME, 0, `Count ${h.count} != RemoveCount + AddCount`);
  need(NAME, APPLY_REQUEST.size, removeCount * 8, h.totalSize);
  const remove = readIdArray(c, APPLY_REQUEST.size, removeCount);
  const add = readRules(c, APPLY_REQUEST.size + removeCount * 8, addCount, h.totalSize, NAME);
  return { expectedGeneration: c.view.getBigUint64(APPLY_REQUEST.fields.ExpectedGeneration, true), remove, add };
}

function readIdArray(c: Cursor, at: number, count: number): bigint[] {
  const ids: bigint[] = [];
  for (let i = 0; i < count; i++) ids.push(c.view.getBigUint64(at + i * 8, true));
  return ids;
}

export function encodeAddRules(rules: readonly DriverRule[]): Uint8Array {
  let total = HEADER.size;
  for (const r of rules) total += ruleSize(r);
  const { bytes, view } = alloc(total);
  writeHeader(view, 0, rules.length, total);
  let at = HEADER.size;
  for (const r of rules) at += encodeRuleAt(view, at, r);
  return bytes;
}

export function decodeAddRules(bytes: Uint8Array): DriverRule[] {
  const c = cursorOf(bytes);
  const h = readHeader(c, 0, 'ADD_RULES input', HEADER.size);
  return readRules(c, HEADER.size, h.count, h.totalSize, 'ADD_RULES input');
}

export function encodeRemoveRules(ids: readonly bigint[]): Uint8Array {
  const total = HEADER.size + ids.length * 8;
  const { bytes, view } = alloc(total);
  writeHeader(view, 0, ids.length, total);
  writeIds(view, HEADER.size, ids);
  return bytes;
}

export function decodeRemoveRules(bytes: Uint8Array): bigint[] {
  const c = cursorOf(bytes);
  const h = readHeader(c, 0, 'REMOVE_RULES input', HEADER.size);
  if (HEADER.size + h.count * 8 !== h.totalSize) {
    throw new AbiDecodeError('REMOVE_RULES input', 0, `TotalSize ${h.totalSize} does not hold exactly ${h.count} ids`);
  }
  return readIdArray(c, HEADER.size, h.count);
}

export function encodeApplyResult(r: ApplyResult): Uint8Array {
  const { bytes, view } = alloc(APPLY_RESULT.size);
  const f = APPLY_RESULT.fields;
  view.setBigUint64(f.Generation, r.generation, true);
  view.setUint32(f.Added, r.added, true);
  view.setUint32(f.Replaced, r.replaced, true);
  view.setUint32(f.Removed, r.removed, true);
  view.setUint32(f.Missing, r.missing, true);
  return bytes;
}

export function decodeApplyResult(bytes: Uint8Array, length = bytes.byteLength): ApplyResult {
  const c = cursorOf(bytes, length);
  need('KAWIN_APPLY_RESULT', 0, APPLY_RESULT.size, c.end);
  const f = APPLY_RESULT.fields;
  return {
    generation: c.view.getBigUint64(f.Generation, true),
    added: c.view.getUint32(f.Added, true),
    replaced: c.view.getUint32(f.Replaced, true),
    removed: c.view.getUint32(f.Removed, true),
    missing: c.view.getUint32(f.Missing, true),
  };
}

export function encodeListRequest(cursor: bigint): Uint8Array {
  checkU64('list cursor', cursor, true);
  const { bytes, view } = alloc(LIST_REQUEST.size);
  writeHeader(view, 0, 0, LIST_REQUEST.size);
  view.setBigUint64(LIST_REQUEST.fields.Cursor, cursor, true);
  return bytes;
}

export function decodeListRequest(bytes: Uint8Array): bigint {
  const c = cursorOf(bytes);
  readHeader(c, 0, 'KAWIN_LIST_REQUEST', LIST_REQUEST.size);
  return c.view.getBigUint64(LIST_REQUEST.fields.Cursor, true);
}

export interface ListPage {
  generation: bigint;
  nextCursor: bigint;
  totalRules: number;
  requiredSize: number;
  more: boolean;
  rules: DriverRule[];
}

export function encodeListResponse(page: ListPage): Uint8Array {
  const total = LIST_RESPONSE.size + page.rules.reduce((n, r) => n + ruleSize(r), 0);
  const { bytes, view } = alloc(total);
  writeHeader(view, 0, page.rules.length, total, page.more ? LIST_FLAG_MORE : 0);
  const f = LIST_RESPONSE.fields;
  view.setBigUint64(f.Generation, page.generation, true);
  view.setBigUint64(f.NextCursor, page.nextCursor, true);
  view.setUint32(f.TotalRules, page.totalRules, true);
  view.setUint32(f.RequiredSize, page.requiredSize, true);
  let at = LIST_RESPONSE.size;
  for (const r of page.rules) at += encodeRuleAt(view, at, r);
  return bytes;
}

const LIST_NAME = 'KAWIN_LIST_RESPONSE';
type ListHead = Omit<ListPage, 'rules'> & { count: number; totalSize: number };

/** A LIST_RULES answer's fixed part (checked); its records follow. */
function listHead(c: Cursor): ListHead {
  const h = readHeader(c, 0, LIST_NAME, LIST_RESPONSE.size);
  const f = LIST_RESPONSE.fields;
  return {
    generation: c.view.getBigUint64(f.Generation, true),
    nextCursor: c.view.getBigUint64(f.NextCursor, true),
    totalRules: c.view.getUint32(f.TotalRules, true),
    requiredSize: c.view.getUint32(f.RequiredSize, true),
    more: (h.flags & LIST_FLAG_MORE) !== 0,
    count: h.count,
    totalSize: h.totalSize,
  };
}

/** A LIST_RULES page whose records are checked and appended to `records` (kept as bytes: `bytes` must not be reused). */
export function decodeListPageInto(bytes: Uint8Array, length: number, records: RuleRecords): Omit<ListHead, 'totalSize'> {
  const { totalSize, ...head } = listHead(cursorOf(bytes, length));
  records.addPage(bytes, LIST_RESPONSE.size, head.count, totalSize, LIST_NAME);
  return head;
}

/** Decodes a LIST_RULES answer of `length` bytes (the IOCTL's bytes returned). */
export function decodeListResponse(bytes: Uint8Array, length = bytes.byteLength): ListPage {
  const c = cursorOf(bytes, length);
  const { count, totalSize, ...head } = listHead(c);
  return { ...head, rules: readRules(c, LIST_RESPONSE.size, count, totalSize, LIST_NAME) };
}

