/**
 * Which YAML texts the fast path (./fast-yaml.ts) may read: a conservative scan for
 * the constructs where js-yaml 4 and js-yaml 5 disagree or where a limit needs the
 * event parser. A false alarm only costs speed; a miss would change results, so every
 * rule here errs towards the event path (and fast-yaml.test.ts compares both paths).
 */
/** Node properties and explicit keys: `&anchor`, `*alias`, `!tag`, `? key`. */
const NODE_INDICATORS = ['&', '*', '!', '?'];
/** Where a node (and so an indicator) may start: after space or a flow/block indicator. */
const NODE_START = new Set([...' \t\r\n,[]{}:?-'].map((c) => c.charCodeAt(0)));

/**
 * True for constructs the fast path cannot vouch for (see the top comment). A
 * conservative scan: `C:\Users\*\x` and `**` in globs do not trigger it (a `*` there
 * cannot start a node); a quoted `'a & b'` does, which only costs speed. Written with
 * indexOf, which is about 10 times faster here than one regular expression.
 */
export function needsEventParser(text: string): boolean {
  if (text.includes('<<') || text.includes('\t') || text.includes('\uFEFF') || text.includes('\n%') || text.includes('\n...')) return true;
  if (text.startsWith('%') || text.startsWith('...')) return true;
  return NODE_INDICATORS.some((c) => indicatorAtNodeStart(text, c)) || collectionKey(text, ']') || collectionKey(text, '}') || flowHazard(text);
}

function indicatorAtNodeStart(text: string, indicator: string): boolean {
  for (let i = text.indexOf(indicator); i >= 0; i = text.indexOf(indicator, i + 1)) {
    if (i === 0 || NODE_START.has(text.charCodeAt(i - 1))) return true;
  }
  return false;
}

/**
 * A flow collection closed by `close` and followed by `:` (spaces, newlines and
 * comments between) may be a key. The search goes on from where the last look-ahead
 * stopped, so every character is looked at a bounded number of times whatever the
 * text (a `}` inside the comment just skipped is no token anyway).
 */
function collectionKey(text: string, close: string): boolean {
  for (let i = text.indexOf(close); i >= 0; ) {
    const stop = colonAfter(text, i + 1);
    if (stop < 0) return true;
    i = text.indexOf(close, Math.max(stop, i + 1));
  }
  return false;
}

/** -1 when a `:` comes next (after space and comments); else where the look-ahead stopped. */
function colonAfter(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x3a /* : */) return -1;
    if (c === 0x23 /* # */ && isSpace(text.charCodeAt(i - 1))) {
      const eol = text.indexOf('\n', i);
      if (eol < 0) return text.length;
      i = eol;
    } else if (!isSpace(c)) {
      return i;
    }
  }
  return text.length;
}

/**
 * Flow syntax the two parsers read differently, found by a small lexer:
 * - a quoted scalar or a flow collection continued on the next line: js-yaml 5 checks
 *   the indentation of such continuation lines, js-yaml 4 does not (it accepts
 *   `'a\nb'` with `b` at column 0);
 * - a collection in key position of a flow mapping (`{a, {}}`): js-yaml 5 refuses
 *   complex keys, js-yaml 4 turns them into strings.
 * A quote or bracket counts only where a node may start; inside a plain scalar
 * (`it's`, `x[1]`) it is an ordinary character. Character classes come from a table:
 * this loop sees every character of every YAML text, so it is kept lean.
 */
export function flowHazard(text: string): boolean {
  const lexer: Lexer = { open: [], inMapping: false, last: 0 };
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const kind = c < 128 ? CLASS[c]! : 0;
    if (kind === 0) {
      if (c !== 0x20) lexer.last = c;
      continue;
    }
    const next = step(text, i, kind, lexer);
    if (next < 0) return true;
    i = next;
  }
  return false;
}

interface Lexer {
  /** For each open flow collection, whether its parent is a mapping. */
  open: boolean[];
  inMapping: boolean;
  /** The last character that is not a space. */
  last: number;
}

/** Handles the special character at `i`: the offset to go on from, -1 for a hazard. */
function step(text: string, i: number, kind: number, lexer: Lexer): number {
  if (kind === NEWLINE) return lexer.open.length > 0 ? -1 : i;
  const prev = i === 0 ? 0x0a : text.charCodeAt(i - 1);
  if (kind === HASH) return comment(text, i, prev, lexer);
  const c = text.charCodeAt(i);
  let next = i;
  if (kind === CLOSE) closeCollection(lexer);
  else if (kind === QUOTE && NODE_START.has(prev)) next = quoteEnd(text, i, c);
  else if (kind === OPEN && NODE_START.has(prev)) next = openCollection(c, lexer) ? i : -1;
  lexer.last = c;
  return next;
}

/** A comment runs to the end of its line; a `#` not after a space is an ordinary character. */
function comment(text: string, i: number, prev: number, lexer: Lexer): number {
  if (!isSpace(prev)) {
    lexer.last = 0x23;
    return i;
  }
  const eol = text.indexOf('\n', i);
  return eol < 0 ? text.length : eol - 1;
}

/** False when the collection is a key of a flow mapping. */
function openCollection(c: number, lexer: Lexer): boolean {
  if (lexer.inMapping && (lexer.last === 0x7b || lexer.last === 0x2c)) return false;
  lexer.open.push(lexer.inMapping);
  lexer.inMapping = c === 0x7b;
  return true;
}

function closeCollection(lexer: Lexer): void {
  if (lexer.open.length > 0) lexer.inMapping = lexer.open.pop()!;
}

const [QUOTE, OPEN, CLOSE, NEWLINE, HASH] = [1, 2, 3, 4, 5];
const CLASS = new Uint8Array(128);
for (const [chars, kind] of [['\'"', QUOTE], ['[{', OPEN], [']}', CLOSE], ['\n', NEWLINE], ['#', HASH]] as const) {
  for (const ch of chars) CLASS[ch.charCodeAt(0)] = kind;
}

/**
 * Offset of the quote closing the scalar opened at `open`; -1 when it continues on
 * another line. Quotes and newlines are looked for together, so a long line with many
 * quoted scalars is not scanned to its end for each of them.
 */
function quoteEnd(text: string, open: number, quote: number): number {
  const mark = quote === 0x27 ? SINGLE_QUOTE_OR_NEWLINE : DOUBLE_QUOTE_OR_NEWLINE;
  mark.lastIndex = open + 1;
  for (let m = mark.exec(text); m; m = mark.exec(text)) {
    const i = m.index;
    if (text.charCodeAt(i) === 0x0a) return -1;
    if (quote === 0x27) {
      if (text.charCodeAt(i + 1) !== 0x27) return i;
      mark.lastIndex = i + 2; // '' is an escaped quote
    } else if (escapes(text, i) % 2 === 0) {
      return i;
    }
  }
  return -1;
}

const SINGLE_QUOTE_OR_NEWLINE = /['\n]/g;
const DOUBLE_QUOTE_OR_NEWLINE = /["\n]/g;

function escapes(text: string, at: number): number {
  let n = 0;
  while (text.charCodeAt(at - n - 1) === 0x5c) n++;
  return n;
}

const isSpace = (c: number): boolean => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
