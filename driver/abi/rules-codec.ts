/**
 * KAWIN_RULE records: the fixed 24 bytes, then Path and SourcePath in UTF-16LE, zero-padded
 * to a multiple of 8. Shared by ADD_RULES, APPLY and LIST_RULES.
 */
import { RULE } from './layout.js';
import { LIMITS, MatchType, RuleAction, RuleKind, type DriverRule } from './types.js';
import {
  AbiDecodeError, AbiEncodeError, align8, bulkUtf16Writer, checkU32, checkU64, expectEnum, need, readUtf16, writeUtf16,
} from './wire.js';

const F = RULE.fields;
const NAME = 'KAWIN_RULE';

/** A decoding window: the bytes as a DataView and a Buffer (same origin) and where they end. */
export interface Cursor {
  readonly view: DataView;
  readonly text: Buffer;
  readonly end: number;
  /** The same bytes as UTF-16 code units, where they can be read so (little-endian host, even offset): faster string comparison. */
  readonly units?: Uint16Array;
}

/**
 * How a rule's paths are written: as they are, or mapped to the driver's form as they are
 * encoded (DOS → NT device paths: the rules the agent holds keep one form, the policy's,
 * and no copy in the driver's form is kept per rule).
 */
export type PathMapping = (path: string) => string;
/** Paths written as they are. */
export const asIs: PathMapping = (path) => path;

/** A path in the driver's form as `prefix` + `path.slice(skip)` of the policy's (no string built). */
export interface DriverPathParts {
  prefix: string;
  skip: number;
}
/** The driver's form of a policy path, in parts. */
export type PathParts = (path: string) => DriverPathParts;
/** A path the driver holds as it is. */
export const AS_IS_PARTS: DriverPathParts = Object.freeze({ prefix: '', skip: 0 });
const asIsParts: PathParts = () => AS_IS_PARTS;

/** UTF-16 bytes of `path` in the driver's form (`parts`), counted without building it (a string's length is its UTF-16 units). */
export const driverPathBytes = (path: string, parts: DriverPathParts): number => (parts.prefix.length + path.length - parts.skip) * 2;

/** The same, checked against the driver's limit. */
function mappedBytes(what: string, path: string, parts: DriverPathParts): number {
  const bytes = driverPathBytes(path, parts);
  if (bytes > LIMITS.maxPathBytes) throw new AbiEncodeError(what, `${bytes} UTF-16 bytes exceed the limit of ${LIMITS.maxPathBytes}`);
  return bytes;
}

/** Writes `path` in the driver's form (`parts`) at `offset`; returns its bytes. */
function writeMapped(view: DataView, offset: number, path: string, parts: DriverPathParts): number {
  if (parts.prefix === '' && parts.skip === 0) return writeUtf16(view, offset, path);
  const prefixBytes = writeUtf16(view, offset, parts.prefix);
  // A slice of a long string is a view of it, not a copy.
  return prefixBytes + writeUtf16(view, offset + prefixBytes, path.slice(parts.skip));
}

/** Bytes the encoded rule takes (validates the rule); paths in the driver's form by `parts`. */
export function ruleSize(rule: DriverRule, parts: PathParts = asIsParts): number {
  return recordSize(rule, parts(rule.target.path), rule.source ? parts(rule.source.path) : undefined);
}

/** A record's bytes with its paths in the driver's form (`target`, `source`: their parts), checked against the driver's limit. */
function recordSize(rule: DriverRule, target: DriverPathParts, source: DriverPathParts | undefined): number {
  return align8(RULE.size + mappedBytes('rule path', rule.target.path, target) +
    (source !== undefined ? mappedBytes('rule source path', rule.source!.path, source) : 0));
}

function inRange(what: string, value: number, min: number, max: number): void {
  if (!(value >= min && value <= max)) throw new AbiEncodeError(what, `${value} is not a known value`);
}

function validate(rule: DriverRule): void {
  checkU64('rule id', rule.id, false);
  checkU32('rule flags', rule.flags);
  inRange('rule kind', rule.kind, RuleKind.Process, RuleKind.Network);
  inRange('rule action', rule.action, RuleAction.Allow, RuleAction.Block);
  inRange('rule match type', rule.target.match, MatchType.Exact, MatchType.Glob);
  if (rule.target.path.length === 0) throw new AbiEncodeError('rule path', 'empty');
  if (!rule.source) return;
  inRange('rule source match type', rule.source.match, MatchType.Exact, MatchType.Glob);
  if (rule.source.path.length === 0) throw new AbiEncodeError('rule source path', 'empty');
}

/** A record's fixed fields but its paths' byte counts (written with the paths). */
function writeHead(view: DataView, offset: number, rule: DriverRule, size: number): void {
  view.setUint32(offset + F.Size, size, true);
  view.setUint8(offset + F.Kind, rule.kind);
  view.setUint8(offset + F.MatchType, rule.target.match);
  view.setUint8(offset + F.Action, rule.action);
  view.setUint8(offset + F.SourceMatchType, rule.source ? rule.source.match : MatchType.None);
  view.setBigUint64(offset + F.Id, rule.id, true);
  view.setUint32(offset + F.Flags, rule.flags, true);
}

/**
 * Writes the rule at `offset` (the bytes must be zeroed); returns its size. Paths are
 * written in the driver's form by `parts` (DOS → NT as it writes: no mapped string is built).
 */
export function encodeRuleAt(view: DataView, offset: number, rule: DriverRule, parts: PathParts = asIsParts): number {
  validate(rule);
  const target = parts(rule.target.path);
  const source = rule.source ? parts(rule.source.path) : undefined;
  const size = recordSize(rule, target, source);
  writeHead(view, offset, rule, size);
  const pathBytes = writeMapped(view, offset + RULE.size, rule.target.path, target);
  view.setUint16(offset + F.PathBytes, pathBytes, true);
  const sourceBytes = source !== undefined ? writeMapped(view, offset + RULE.size + pathBytes, rule.source!.path, source) : 0;
  view.setUint16(offset + F.SourcePathBytes, sourceBytes, true);
  return size;
}

/** Where RuleBatchEncoder writes: the message, as UTF-16 units (a little-endian host) and through the native UTF-16 writer. */
interface BatchOutput {
  view: DataView;
  units: Uint16Array | undefined;
  text: (offset: number, s: string) => number;
}

/** Uint16Array stores in the host's order: UTF-16LE code units can be stored as they are. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * Many rules encoded into one message (a large APPLY), in two passes that may each be cut
 * into steps: `measure` sizes (and validates) the rules, `write` writes them. The same
 * records as encodeRuleAt, with less work per rule, which a cold start's 100k-rule APPLY
 * pays on the main thread before it can be sent:
 * - each rule's driver-form parts are looked up once, by `measure`, and its size kept;
 * - a path's device prefix (the same few for every rule) is copied as UTF-16 units
 *   encoded once, and the path is written whole just before the prefix's end, its drive
 *   (`C:`) then covered by the prefix: no sliced string per path, and the message's
 *   Buffer made once (bulkUtf16Writer), not looked up per string.
 */
export class RuleBatchEncoder {
  private readonly sizes: Uint32Array;
  private readonly targets: DriverPathParts[];
  private readonly sources: (DriverPathParts | undefined)[];
  private readonly prefixes = new Map<string, Uint16Array>();
  private output: BatchOutput | undefined;

  constructor(private readonly rules: readonly DriverRule[], private readonly parts: PathParts = asIsParts) {
    this.sizes = new Uint32Array(rules.length);
    this.targets = new Array<DriverPathParts>(rules.length);
    this.sources = new Array<DriverPathParts | undefined>(rules.length);
  }

  /** Validates and sizes rules [from, to); returns their bytes. */
  measure(from: number, to: number): number {
    let total = 0;
    for (let i = from; i < to; i++) {
      const rule = this.rules[i]!;
      validate(rule);
      const target = this.parts(rule.target.path);
      const source = rule.source ? this.parts(rule.source.path) : undefined;
      const size = recordSize(rule, target, source);
      this.targets[i] = target;
      this.sources[i] = source;
      this.sizes[i] = size;
      total += size;
    }
    return total;
  }

  /**
   * Writes rules [from, to), measured, at `offset` of `view` (zeroed, 2-byte aligned);
   * returns the offset after them.
   */
  write(view: DataView, offset: number, from: number, to: number): number {
    const out = this.outputFor(view);
    for (let i = from; i < to; i++) {
      const rule = this.rules[i]!;
      const source = this.sources[i];
      const size = this.sizes[i]!;
      writeHead(view, offset, rule, size);
      const pathBytes = this.writePath(out, offset + RULE.size, rule.target.path, this.targets[i]!);
      view.setUint16(offset + F.PathBytes, pathBytes, true);
      const sourceBytes = source !== undefined ? this.writePath(out, offset + RULE.size + pathBytes, rule.source!.path, source) : 0;
      view.setUint16(offset + F.SourcePathBytes, sourceBytes, true);
      offset += size;
    }
    return offset;
  }

  /** The message's views, made once for all its steps. */
  private outputFor(view: DataView): BatchOutput {
    if (this.output?.view !== view) {
      const units = LITTLE_ENDIAN && view.byteOffset % 2 === 0 ? new Uint16Array(view.buffer, view.byteOffset, view.byteLength >> 1) : undefined;
      this.output = { view, units, text: bulkUtf16Writer(view) };
    }
    return this.output;
  }

  private writePath({ view, units, text }: BatchOutput, offset: number, path: string, parts: DriverPathParts): number {
    const { prefix, skip } = parts;
    if (prefix === '' && skip === 0) return text(offset, path);
    // The whole path, its first `skip` units under the prefix's last ones, then the prefix over them.
    if (units === undefined || prefix.length < skip) return writeMapped(view, offset, path, parts);
    const prefixBytes = prefix.length * 2;
    text(offset + prefixBytes - skip * 2, path);
    units.set(this.prefixUnits(prefix), offset >> 1);
    return prefixBytes + (path.length - skip) * 2;
  }

  private prefixUnits(prefix: string): Uint16Array {
    let units = this.prefixes.get(prefix);
    if (!units) {
      units = new Uint16Array(prefix.length);
      for (let i = 0; i < prefix.length; i++) units[i] = prefix.charCodeAt(i);
      this.prefixes.set(prefix, units);
    }
    return units;
  }
}

function fail(offset: number, problem: string): never {
  throw new AbiDecodeError(NAME, offset, problem);
}

/** The record at `at`, checked whole (its strings not decoded): fixed fields and string byte counts. */
export interface RuleRecordHead {
  size: number;
  kind: number;
  match: number;
  action: number;
  sourceMatch: number;
  id: bigint;
  flags: number;
  pathBytes: number;
  sourceBytes: number;
}

const KINDS = [RuleKind.Process, RuleKind.Network] as const;
const MATCHES = [MatchType.Exact, MatchType.Glob] as const;
const ACTIONS = [RuleAction.Allow, RuleAction.Block] as const;
const SOURCE_MATCHES = [MatchType.None, MatchType.Glob] as const;

/**
 * Checks the record at `at` as decoding it would (throws AbiDecodeError) and returns its
 * size, building no object and no BigInt: a read-back checks every record of a page in
 * one turn (a head object and a BigInt per record made a 2 MiB page a 20–30 ms turn).
 */
export function checkRuleSizeAt(c: Cursor, at: number): number {
  need(NAME, at, RULE.size, c.end);
  const v = c.view;
  const size = v.getUint32(at + F.Size, true);
  if (size < RULE.size || size % 8 !== 0) fail(at, `Size ${size} is not a multiple of 8 of at least ${RULE.size}`);
  if (at + size > c.end) fail(at, `Size ${size} runs past the end (${c.end - at} bytes left)`);
  expectEnum(NAME, at, 'Kind', v.getUint8(at + F.Kind), KINDS);
  expectEnum(NAME, at, 'MatchType', v.getUint8(at + F.MatchType), MATCHES);
  expectEnum(NAME, at, 'Action', v.getUint8(at + F.Action), ACTIONS);
  const sourceMatch = v.getUint8(at + F.SourceMatchType);
  expectEnum(NAME, at, 'SourceMatchType', sourceMatch, SOURCE_MATCHES);
  if (v.getUint32(at + F.Id, true) === 0 && v.getUint32(at + F.Id + 4, true) === 0) fail(at, 'Id is 0');
  const pathBytes = v.getUint16(at + F.PathBytes, true);
  const sourceBytes = v.getUint16(at + F.SourcePathBytes, true);
  if (pathBytes === 0 || pathBytes % 2 !== 0) fail(at, `PathBytes ${pathBytes} is not a nonzero even number`);
  if (sourceBytes % 2 !== 0) fail(at, `SourcePathBytes ${sourceBytes} is odd`);
  if ((sourceBytes === 0) !== (sourceMatch === MatchType.None)) {
    fail(at, `SourceMatchType ${sourceMatch} disagrees with SourcePathBytes ${sourceBytes}`);
  }
  if (RULE.size + pathBytes + sourceBytes > size) fail(at, `strings (${pathBytes + sourceBytes} bytes) overflow Size ${size}`);
  return size;
}

/** Checks the record at `at` as decoding it would (throws AbiDecodeError), without decoding its strings. */
export function checkRuleAt(c: Cursor, at: number): RuleRecordHead {
  const size = checkRuleSizeAt(c, at);
  const v = c.view;
  return {
    size, kind: v.getUint8(at + F.Kind), match: v.getUint8(at + F.MatchType), action: v.getUint8(at + F.Action),
    sourceMatch: v.getUint8(at + F.SourceMatchType), id: v.getBigUint64(at + F.Id, true), flags: v.getUint32(at + F.Flags, true),
    pathBytes: v.getUint16(at + F.PathBytes, true), sourceBytes: v.getUint16(at + F.SourcePathBytes, true),
  };
}

/** Decodes the rule at `at`; returns it and the record size (unknown trailing bytes skipped). */
export function decodeRuleAt(c: Cursor, at: number): { rule: DriverRule; size: number } {
  const head = checkRuleAt(c, at);
  const strings = at + RULE.size;
  const rule: DriverRule = {
    id: head.id,
    kind: head.kind,
    action: head.action,
    flags: head.flags,
    target: { path: readUtf16(c.text, strings, head.pathBytes), match: head.match },
  };
  if (head.sourceBytes > 0) {
    rule.source = { path: readUtf16(c.text, strings + head.pathBytes, head.sourceBytes), match: head.sourceMatch };
  }
  return { rule, size: head.size };
}

/** UTF-16LE bytes at `at` equal `prefix` + `s.slice(skip)`, compared in place (no string is made). */
function sameText(c: Cursor, at: number, bytes: number, s: string, { prefix, skip }: DriverPathParts): boolean {
  if (bytes !== (prefix.length + s.length - skip) * 2) return false;
  const units = c.units;
  if (units) {
    let u = at >>> 1;
    for (let k = 0; k < prefix.length; k++, u++) if (units[u] !== prefix.charCodeAt(k)) return false;
    for (let k = skip; k < s.length; k++, u++) if (units[u] !== s.charCodeAt(k)) return false;
    return true;
  }
  const v = c.view;
  let b = at;
  for (let k = 0; k < prefix.length; k++, b += 2) if (v.getUint16(b, true) !== prefix.charCodeAt(k)) return false;
  for (let k = skip; k < s.length; k++, b += 2) if (v.getUint16(b, true) !== s.charCodeAt(k)) return false;
  return true;
}

/**
 * The checked record at `at` (checkRuleAt) holds exactly `rule`, its paths in the driver's
 * form (`parts`): what a full read-back asks of every rule, answered without decoding it.
 */
export function ruleMatchesAt(c: Cursor, at: number, rule: DriverRule, parts: PathParts = asIsParts): boolean {
  const v = c.view;
  if (v.getBigUint64(at + F.Id, true) !== rule.id || v.getUint8(at + F.Kind) !== rule.kind || v.getUint8(at + F.Action) !== rule.action ||
    v.getUint32(at + F.Flags, true) !== rule.flags || v.getUint8(at + F.MatchType) !== rule.target.match ||
    v.getUint8(at + F.SourceMatchType) !== (rule.source ? rule.source.match : MatchType.None)) return false;
  const pathBytes = v.getUint16(at + F.PathBytes, true);
  if (!sameText(c, at + RULE.size, pathBytes, rule.target.path, parts(rule.target.path))) return false;
  return !rule.source || sameText(c, at + RULE.size + pathBytes, v.getUint16(at + F.SourcePathBytes, true), rule.source.path, parts(rule.source.path));
}
