/**
 * The common shape of policy YAML, read without the event parser: block and
 * single-line flow collections of plain and quoted one-line scalars, comments, and
 * `---` between documents. It is to YAML what JSON.parse is in ./yaml.ts: a faster
 * way to the same values (about ten times faster than js-yaml's event parser on
 * policy texts, bench:policy), and nothing more.
 *
 * It decides nothing. Whatever it does not recognise with certainty (anchors, tags,
 * block scalars, multi-line scalars or flow collections, tabs, merge keys, duplicate
 * keys, unusual characters, a document near a limit, any error) makes it return
 * undefined, and js-yaml reads the text as before: errors, warnings and their
 * positions always come from js-yaml (positions lazily, ./locate.ts). Scalars are
 * typed by the schema's own resolvers, so `true`, `1`, `~` and `0x1F` mean what they
 * mean to js-yaml. The property test (yaml-common.test.ts) holds it to js-yaml's
 * values, document indices and offsets on generated and mutated texts.
 */
import { NOT_RESOLVED, type Schema, type ScalarTagDefinition } from 'js-yaml';
import type { PolicyLimits } from './limits.js';

export interface CommonDocument {
  /** Index among the stream's documents, empty ones counted (as js-yaml counts them). */
  index: number;
  /** Offset of the document's first node. */
  start: number;
  value: unknown;
}

export type CommonLimits = Pick<PolicyLimits, 'maxDocumentBytes' | 'maxDepth'>;

/** Thrown inside the reader when the text leaves the common shape; never escapes. */
const LEAVE = Symbol('not the common shape');

/** Documents this close to maxDocumentBytes are measured by js-yaml, whose count is the rule. */
const SIZE_MARGIN = 4096;

const SPACE = 0x20, TAB = 0x09, LF = 0x0a, CR = 0x0d, HASH = 0x23, COLON = 0x3a, DASH = 0x2d, DOT = 0x2e;
const SQUOTE = 0x27, DQUOTE = 0x22, BACKSLASH = 0x5c, COMMA = 0x2c;
const LBRACKET = 0x5b, RBRACKET = 0x5d, LBRACE = 0x7b, RBRACE = 0x7d;

/** Characters that cannot start a plain scalar here (c-indicator less `-?:`, quotes handled before). */
const NOT_PLAIN_FIRST = new Set([...',[]{}#&*!|>%@`'].map((c) => c.charCodeAt(0)));

/**
 * ASCII characters a plain scalar takes without a second look: printable but for `:`
 * (and, in a flow collection, the flow indicators). Indexed by char code; anything
 * else (NaN at the end included) reads 0 or undefined.
 */
const BLOCK_ORDINARY = new Uint8Array(128);
for (let c = 0x21; c < 0x7f; c++) BLOCK_ORDINARY[c] = c === COLON ? 0 : 1;
const FLOW_ORDINARY = BLOCK_ORDINARY.map((v, c) => (c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE ? 0 : v));

/** YAML's limit on an implicit key; longer keys are left to js-yaml. */
const MAX_KEY = 1024;

/**
 * Reads `text` when it has the common shape; undefined when js-yaml must read it.
 * `schema` is the schema js-yaml constructs with (its implicit scalar tags type plain
 * scalars here).
 */
export function readCommonYaml(text: string, schema: Schema, limits: CommonLimits): CommonDocument[] | undefined {
  try {
    return new Reader(text, resolverFor(schema), limits).documents();
  } catch (error) {
    if (error === LEAVE) return undefined;
    throw error;
  }
}

type Resolve = (source: string) => unknown;
const resolvers = new WeakMap<Schema, Resolve>();

/**
 * Plain scalar → value, as js-yaml resolves it: the schema's implicit scalar tags in
 * schema order, dispatched by first character. Only str, null, bool, int and float
 * results are taken; any other tag (merge's `<<`) leaves the common shape.
 */
function resolverFor(schema: Schema): Resolve {
  let resolve = resolvers.get(schema);
  if (resolve) return resolve;
  const implicit = schema.tags.filter((t): t is ScalarTagDefinition => t.nodeKind === 'scalar' && t.implicit);
  const known = /^tag:yaml\.org,2002:(null|bool|int|float)$/;
  const any = implicit.filter((t) => t.implicitFirstChars === null);
  const byFirst = new Map<string, ScalarTagDefinition[]>();
  for (const t of implicit) {
    for (const key of t.implicitFirstChars ?? []) byFirst.set(key, implicit.filter((u) => u.implicitFirstChars === null || u.implicitFirstChars.includes(key)));
  }
  // By char code: a scalar's first character is mostly a letter no tag claims (then `any`).
  const byCode: (ScalarTagDefinition[] | undefined)[] = [];
  for (const [key, tags] of byFirst) if (key.length === 1) byCode[key.charCodeAt(0)] = tags;
  const empty = byFirst.get('') ?? any;
  resolve = (source) => {
    const candidates = source === '' ? empty : byCode[source.charCodeAt(0)] ?? any;
    for (const tag of candidates) {
      const value = tag.resolve(source, false, tag.tagName);
      if (value === NOT_RESOLVED) continue;
      if (!known.test(tag.tagName)) throw LEAVE;
      return value;
    }
    return source;
  };
  resolvers.set(schema, resolve);
  return resolve;
}

class Reader {
  private pos = 0;
  /** Column of the current content line's first character (after skipBlank). */
  private col = 0;
  /** At the end of the text, or at a document marker: every block collection ends. */
  private ended = false;
  private depth = 0;
  private readonly end: number;

  constructor(private readonly s: string, private readonly resolve: Resolve, private readonly limits: CommonLimits) {
    this.end = s.length;
  }

  documents(): CommonDocument[] {
    const docs: CommonDocument[] = [];
    if (this.s.charCodeAt(0) === 0xfeff) throw LEAVE;
    // Documents are numbered as js-yaml numbers them: each `---` opens one (empty if
    // nothing follows), content before any marker opens one, `...` closes the open one.
    let index = 0;
    let openEmpty = false;
    this.skipBlank(); // and after every line from here on: the reader is always at a content line or the end
    while (this.pos < this.end) {
      const marker = this.col === 0 ? this.marker() : undefined;
      if (marker !== undefined) {
        if (openEmpty) index++;
        this.pos += 3;
        this.finishLine(true);
        openEmpty = marker === DASH;
        continue;
      }
      if (this.s.charCodeAt(this.pos) === 0x25) throw LEAVE; // %directive
      const start = this.pos;
      const value = this.root();
      if (this.pos < this.end && (this.col !== 0 || this.marker() === undefined)) throw LEAVE;
      if (this.pos - start > this.limits.maxDocumentBytes - SIZE_MARGIN) throw LEAVE;
      docs.push({ index: index++, start, value });
      openEmpty = false;
    }
    return docs; // a trailing open `---` is an empty document: nothing to return
  }

  private root(): unknown {
    const c = this.s.charCodeAt(this.pos);
    if (c === LBRACE || c === LBRACKET) {
      const value = this.flow();
      this.finishLine(false);
      return value;
    }
    if (this.atEntry()) return this.sequence(this.col);
    return this.mapping(this.col);
  }

  // ---- lines ----

  /** Skips empty and comment lines; stops at the first character of a content line (sets col) or at the end. */
  private skipBlank(): void {
    const s = this.s;
    this.ended = false;
    for (;;) {
      const lineStart = this.pos;
      let c = s.charCodeAt(this.pos);
      while (c === SPACE) c = s.charCodeAt(++this.pos);
      if (this.pos >= this.end) {
        this.ended = true;
        return;
      }
      if (c === LF) {
        this.pos++;
        continue;
      }
      if (c === CR) {
        this.lineBreak();
        continue;
      }
      if (c === HASH) {
        this.comment();
        if (this.pos >= this.end) {
          this.ended = true;
          return;
        }
        this.lineBreak();
        continue;
      }
      if (c === TAB) throw LEAVE;
      this.col = this.pos - lineStart;
      if (this.col === 0 && this.marker() !== undefined) this.ended = true;
      return;
    }
  }

  /** After a node that ends its line: spaces, maybe a comment, the line break; then skipBlank. */
  private finishLine(afterMarker: boolean): void {
    const s = this.s;
    const from = this.pos;
    let c = s.charCodeAt(this.pos);
    while (c === SPACE) c = s.charCodeAt(++this.pos);
    if (c === HASH) {
      if (this.pos === from && !afterMarker) throw LEAVE;
      this.comment();
    }
    if (this.pos < this.end) this.lineBreak();
    this.skipBlank();
  }

  private lineBreak(): void {
    const c = this.s.charCodeAt(this.pos);
    if (c === LF) this.pos++;
    else if (c === CR && this.s.charCodeAt(this.pos + 1) === LF) this.pos += 2;
    else throw LEAVE;
  }

  /** From `#` to the end of its line (the line break stays). */
  private comment(): void {
    const s = this.s;
    let c = s.charCodeAt(++this.pos);
    while (this.pos < this.end && c !== LF && c !== CR) {
      checkChar(c);
      c = s.charCodeAt(++this.pos);
    }
  }

  /** DASH for `---`, DOT for `...` at the current position (followed by white space or the end). */
  private marker(): number | undefined {
    const s = this.s;
    const p = this.pos;
    const c = s.charCodeAt(p);
    if ((c !== DASH && c !== DOT) || s.charCodeAt(p + 1) !== c || s.charCodeAt(p + 2) !== c || !isBreakOrEnd(s.charCodeAt(p + 3), true)) return undefined;
    return c;
  }

  /** `- ` (a block sequence entry) at the current position. */
  private atEntry(): boolean {
    return this.s.charCodeAt(this.pos) === DASH && isBreakOrEnd(this.s.charCodeAt(this.pos + 1), true);
  }

  private enter(): void {
    if (++this.depth + 2 >= this.limits.maxDepth) throw LEAVE;
  }

  // ---- block collections ----

  /** A block mapping whose keys sit at column n; the current position is its first key. */
  private mapping(n: number): Record<string, unknown> {
    this.enter();
    const out: Record<string, unknown> = {};
    for (;;) {
      const key = this.key();
      this.pos++; // the ':'
      out[key] = this.mappingValue(n, key, out);
      if (this.ended || this.col < n) break;
      if (this.col > n || this.atEntry()) throw LEAVE;
    }
    this.depth--;
    return out;
  }

  /** A mapping key on one line and its `:` (not consumed); plain keys must read as strings. */
  private key(): string {
    const c = this.s.charCodeAt(this.pos);
    let key: string;
    if (c === SQUOTE) key = this.single();
    else if (c === DQUOTE) key = this.double();
    else {
      key = this.plain(false);
      if (typeof this.resolve(key) !== 'string') throw LEAVE;
    }
    let d = this.s.charCodeAt(this.pos);
    while (d === SPACE) d = this.s.charCodeAt(++this.pos);
    if (d !== COLON || !isBreakOrEnd(this.s.charCodeAt(this.pos + 1), true)) throw LEAVE;
    return key;
  }

  private mappingValue(n: number, key: string, into: Record<string, unknown>): unknown {
    checkNewKey(key, into);
    const s = this.s;
    let c = s.charCodeAt(this.pos);
    while (c === SPACE) c = s.charCodeAt(++this.pos);
    if (c === HASH || this.pos >= this.end || c === LF || c === CR) {
      this.finishLine(true);
      if (this.ended) return this.resolve('');
      if (this.col > n) return this.block();
      if (this.col === n && this.atEntry()) return this.sequence(n);
      return this.resolve('');
    }
    return this.inline(false);
  }

  /**
   * A node on lines of its own, indented past its parent's column. A scalar there is
   * one line: a continuation line would be indented past the parent too, and the
   * parent leaves on it.
   */
  private block(): unknown {
    if (this.atEntry()) return this.sequence(this.col);
    return this.inline(true);
  }

  /** A block sequence whose `- ` sit at column n; the current position is its first entry. */
  private sequence(n: number): unknown[] {
    this.enter();
    const out: unknown[] = [];
    do {
      out.push(this.entry(n));
      if (this.ended || this.col < n) break;
      if (this.col > n) throw LEAVE;
    } while (this.atEntry()); // otherwise the next key of the mapping this indentless sequence belongs to
    this.depth--;
    return out;
  }

  /** One `- ` entry of a sequence at column n: a node on the same line, on the lines below, or empty. */
  private entry(n: number): unknown {
    const lineStart = this.pos - this.col;
    const s = this.s;
    let c = s.charCodeAt(++this.pos);
    while (c === SPACE) c = s.charCodeAt(++this.pos);
    if (c === HASH || this.pos >= this.end || c === LF || c === CR) {
      this.finishLine(true);
      return !this.ended && this.col > n ? this.block() : this.resolve('');
    }
    if (c === TAB) throw LEAVE;
    this.col = this.pos - lineStart;
    return this.inline(true);
  }

  /**
   * A node that starts on the current line: after `key: `, or (`nested`) after `- ` or
   * on a line of its own, where this.col is its column and it may be a mapping or a
   * sequence.
   */
  private inline(nested: boolean): unknown {
    const c = this.s.charCodeAt(this.pos);
    if (c === LBRACE || c === LBRACKET) {
      const value = this.flow();
      this.finishLine(false);
      return value;
    }
    if (nested && this.atEntry()) return this.sequence(this.col);
    const at = this.pos;
    const value = c === SQUOTE ? this.single() : c === DQUOTE ? this.double() : this.resolve(this.plain(false));
    if (this.keyFollows()) {
      if (!nested) throw LEAVE; // `a: b: c`
      this.pos = at;
      return this.mapping(this.col);
    }
    this.finishLine(false);
    return value;
  }

  /** Whether `: ` (after spaces) follows; the position stays where it was. */
  private keyFollows(): boolean {
    const s = this.s;
    let p = this.pos;
    while (s.charCodeAt(p) === SPACE) p++;
    return s.charCodeAt(p) === COLON && isBreakOrEnd(s.charCodeAt(p + 1), true);
  }

  // ---- flow collections (one line) ----

  private flow(): unknown {
    this.enter();
    const s = this.s;
    const open = s.charCodeAt(this.pos++);
    const close = open === LBRACE ? RBRACE : RBRACKET;
    const out: Record<string, unknown> | unknown[] = open === LBRACE ? {} : [];
    this.flowSpace();
    if (s.charCodeAt(this.pos) === close) {
      this.pos++;
    } else {
      for (;;) {
        if (Array.isArray(out)) out.push(this.flowItem());
        else this.flowPair(out);
        const c = s.charCodeAt(this.pos++);
        if (c === close) break;
        if (c !== COMMA) throw LEAVE;
        this.flowSpace();
        const next = s.charCodeAt(this.pos);
        if (next === close || next === COMMA) throw LEAVE;
      }
    }
    this.depth--;
    return out;
  }

  private flowItem(): unknown {
    const item = this.flowNode();
    this.flowSpace();
    if (this.s.charCodeAt(this.pos) === COLON) throw LEAVE; // a single-pair mapping
    return item;
  }

  private flowPair(into: Record<string, unknown>): void {
    const s = this.s;
    const key = this.flowKey();
    checkNewKey(key, into);
    this.flowSpace();
    if (s.charCodeAt(this.pos) !== COLON || s.charCodeAt(this.pos + 1) !== SPACE) throw LEAVE;
    this.pos += 2;
    this.flowSpace();
    into[key] = this.flowNode();
    this.flowSpace();
  }

  private flowSpace(): void {
    let c = this.s.charCodeAt(this.pos);
    while (c === SPACE) c = this.s.charCodeAt(++this.pos);
  }

  private flowKey(): string {
    const c = this.s.charCodeAt(this.pos);
    if (c === SQUOTE) return this.single();
    if (c === DQUOTE) return this.double();
    const plain = this.plain(true);
    if (typeof this.resolve(plain) !== 'string') throw LEAVE;
    return plain;
  }

  private flowNode(): unknown {
    const c = this.s.charCodeAt(this.pos);
    if (c === LBRACE || c === LBRACKET) return this.flow();
    if (c === SQUOTE) return this.single();
    if (c === DQUOTE) return this.double();
    return this.resolve(this.plain(true));
  }

  // ---- scalars (one line) ----

  /** A plain scalar's text, trailing spaces excluded; stops before `: `, ` #`, the line's end (and flow indicators in flow). */
  private plain(inFlow: boolean): string {
    const s = this.s;
    const start = this.pos;
    this.plainStart(inFlow);
    const ordinary = inFlow ? FLOW_ORDINARY : BLOCK_ORDINARY;
    let end = start;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (ordinary[c] === 1) {
        end = ++this.pos;
        continue;
      }
      if (c === SPACE) {
        if (s.charCodeAt(this.pos + 1) === HASH) {
          if (inFlow) throw LEAVE; // a comment in a flow collection: more lines follow
          break;
        }
        this.pos++;
        continue;
      }
      if (this.endsPlain(c, inFlow)) break;
      end = ++this.pos;
    }
    return s.slice(start, end);
  }

  /** Leaves unless a plain scalar may start here. */
  private plainStart(inFlow: boolean): void {
    const s = this.s;
    const c = s.charCodeAt(this.pos);
    const next = s.charCodeAt(this.pos + 1);
    const indicator = c === DASH || c === 0x3f || c === COLON;
    if (indicator ? isBreakOrEnd(next, true) || (inFlow && isFlowIndicator(next)) : NOT_PLAIN_FIRST.has(c) || isBreakOrEnd(c, true)) throw LEAVE;
    // `---` or `...` anywhere on a line: js-yaml reads some of these as markers.
    if ((c === DASH || c === DOT) && next === c && s.charCodeAt(this.pos + 2) === c) throw LEAVE;
  }

  /** Whether `c` (not a space) ends the plain scalar; leaves on what the reader does not take. */
  private endsPlain(c: number, inFlow: boolean): boolean {
    if (c === COLON) {
      const next = this.s.charCodeAt(this.pos + 1);
      return isBreakOrEnd(next, true) || (inFlow && isFlowIndicator(next));
    }
    if (isBreakOrEnd(c, false)) {
      if (inFlow) throw LEAVE; // a flow collection over several lines
      return true;
    }
    if (inFlow && isFlowIndicator(c)) return true;
    if (c === TAB) throw LEAVE;
    checkChar(c);
    return false;
  }

  /** A single-quoted scalar on one line (`''` is a quote). */
  private single(): string {
    const s = this.s;
    let out = '';
    for (;;) {
      const from = this.pos + 1;
      const quote = s.indexOf("'", from);
      if (quote < 0 || !takesQuoted(s, from, quote)) throw LEAVE;
      out += s.slice(from, quote);
      this.pos = quote + 1;
      if (s.charCodeAt(this.pos) !== SQUOTE) return out;
      out += "'";
    }
  }

  /** A double-quoted scalar on one line, with the common escapes. */
  private double(): string {
    const s = this.s;
    let out = '';
    let from = ++this.pos;
    for (;;) {
      const c = s.charCodeAt(this.pos);
      if (c === DQUOTE) break;
      if (c === BACKSLASH) {
        out += s.slice(from, this.pos) + this.escape();
        from = this.pos;
        continue;
      }
      if (c !== TAB) checkChar(c); // NaN (the end), line breaks and controls leave
      this.pos++;
    }
    out += s.slice(from, this.pos++);
    return out;
  }

  /** One escape of a double-quoted scalar, the common ones only. */
  private escape(): string {
    const s = this.s;
    const c = s.charCodeAt(this.pos + 1);
    this.pos += 2;
    switch (c) {
      case BACKSLASH: return '\\';
      case DQUOTE: return '"';
      case 0x2f: return '/';
      case 0x6e: return '\n';
      case 0x74: return '\t';
      case 0x72: return '\r';
      case 0x30: return '\0';
      case 0x78: return this.hex(2);
      case 0x75: return this.hex(4);
      default: throw LEAVE;
    }
  }

  private hex(digits: number): string {
    const text = this.s.slice(this.pos, this.pos + digits);
    if (!/^[0-9A-Fa-f]+$/.test(text) || text.length !== digits) throw LEAVE;
    const code = parseInt(text, 16);
    if (code >= 0xd800 && code <= 0xdfff) throw LEAVE;
    this.pos += digits;
    return String.fromCharCode(code);
  }
}

/** Line break, end of text, or (when `space`) a space or tab. */
function isBreakOrEnd(c: number, space: boolean): boolean {
  return Number.isNaN(c) || c === LF || c === CR || (space && (c === SPACE || c === TAB));
}

/**
 * Leaves on a key js-yaml must judge: a duplicate, `__proto__`, a name `into` inherits
 * (toString…), one longer than an implicit key may be.
 */
function checkNewKey(key: string, into: Record<string, unknown>): void {
  if (key === '__proto__' || into[key] !== undefined || key.length > MAX_KEY) throw LEAVE;
}

function isFlowIndicator(c: number): boolean {
  return c === COMMA || c === LBRACKET || c === RBRACKET || c === LBRACE || c === RBRACE;
}

/**
 * What a quoted scalar takes between `from` and `to`: tabs and the characters checkChar
 * takes (so no line break: a quoted scalar over several lines is js-yaml's).
 */
const QUOTED_UNUSUAL = /[^\t\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd]/;
function takesQuoted(s: string, from: number, to: number): boolean {
  return to === from || !QUOTED_UNUSUAL.test(s.slice(from, to));
}

/**
 * Characters taken as they are: printable ASCII and the common ranges of the rest.
 * Controls, C1, surrogates (non-BMP), U+2028/2029, U+FEFF and U+FFFE/FFFF leave.
 */
function checkChar(c: number): void {
  if (c >= 0x20 && c < 0x7f) return;
  if ((c >= 0xa0 && c < 0x2028) || (c > 0x2029 && c < 0xd800) || (c >= 0xe000 && c < 0xfffe && c !== 0xfeff)) return;
  throw LEAVE;
}
