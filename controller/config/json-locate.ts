/**
 * A strict JSON parser that remembers where every value and key starts, so a schema
 * error at `/driver/kind` can be reported as `config.json:7:13`. JSON.parse gives no
 * positions (and Node's syntax messages vary by version), hence this small parser.
 */
import { LineIndex, type TextPosition } from '../text/index.js';

export type { TextPosition };

export class JsonSyntaxError extends Error {
  override readonly name = 'JsonSyntaxError';
  constructor(
    message: string,
    readonly position: TextPosition,
  ) {
    super(message);
  }
}

export interface LocatedJson {
  value: unknown;
  /** Position of the value at `pointer` (or of its key when `key`), falling back to the nearest parent. */
  locate(pointer: string, key?: boolean): TextPosition;
  /** Pointers of keys that appear twice in one object (JSON.parse would keep the last silently). */
  duplicates: string[];
}

/**
 * Named limit: nesting depth of a config file. The deepest real config is 5 levels; a
 * deeper text is refused with its position instead of exhausting the stack.
 */
export const MAX_JSON_DEPTH = 64;

const WS = new Set([' ', '\t', '\n', '\r']);
const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
// Control characters must be rejected inside JSON strings (RFC 8259 §7), hence the range.
// eslint-disable-next-line no-control-regex
const STRING = /"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/y;

export function escapePointerToken(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}

class Parser {
  i = 0;
  private depth = 0;
  readonly values = new Map<string, number>();
  readonly keys = new Map<string, number>();
  readonly duplicates: string[] = [];
  private readonly lines: LineIndex;

  constructor(readonly text: string) {
    this.lines = new LineIndex(text);
  }

  position(offset: number): TextPosition {
    return this.lines.position(offset);
  }

  fail(what: string): never {
    const found = this.i >= this.text.length ? 'end of file' : JSON.stringify(this.text[this.i]);
    throw new JsonSyntaxError(`invalid JSON: expected ${what}, found ${found}`, this.position(this.i));
  }

  skip(): void {
    while (this.i < this.text.length && WS.has(this.text[this.i]!)) this.i++;
  }

  value(pointer: string): unknown {
    this.skip();
    this.values.set(pointer, this.i);
    const c = this.text[this.i];
    if (c === '{' || c === '[') return this.nested(c, pointer);
    if (c === '"') return this.string();
    for (const [word, v] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.i)) {
        this.i += word.length;
        return v;
      }
    }
    return this.number();
  }

  nested(open: '{' | '[', pointer: string): unknown {
    if (++this.depth > MAX_JSON_DEPTH) {
      throw new JsonSyntaxError(`invalid config: nested deeper than ${MAX_JSON_DEPTH} levels`, this.position(this.i));
    }
    const value = open === '{' ? this.object(pointer) : this.array(pointer);
    this.depth--;
    return value;
  }

  number(): number {
    NUMBER.lastIndex = this.i;
    const m = NUMBER.exec(this.text);
    if (!m) this.fail('a value (comments and trailing commas are not allowed in JSON)');
    this.i += m[0].length;
    return Number(m[0]);
  }

  string(): string {
    STRING.lastIndex = this.i;
    const m = STRING.exec(this.text);
    if (!m) this.fail('a valid string (closing quote, escapes, no raw control characters)');
    this.i += m[0].length;
    return JSON.parse(m[0]) as string;
  }

  expect(c: string): void {
    this.skip();
    if (this.text[this.i] !== c) this.fail(`"${c}"`);
    this.i++;
  }

  /** Parse `open item (, item)* close`, calling `item` for each element. */
  list(close: string, item: () => void): void {
    this.i++;
    this.skip();
    if (this.text[this.i] === close) {
      this.i++;
      return;
    }
    for (;;) {
      item();
      this.skip();
      if (this.text[this.i] === close) break;
      if (this.text[this.i] !== ',') this.fail(`"," or "${close}"`);
      this.i++;
    }
    this.i++;
  }

  object(pointer: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    this.list('}', () => {
      this.skip();
      const at = this.i;
      if (this.text[at] !== '"') this.fail('a field name in double quotes (or "}" without a trailing comma)');
      const key = this.string();
      const child = `${pointer}/${escapePointerToken(key)}`;
      if (Object.prototype.hasOwnProperty.call(out, key)) this.duplicates.push(child);
      this.keys.set(child, at);
      this.expect(':');
      Object.defineProperty(out, key, { value: this.value(child), enumerable: true, writable: true, configurable: true });
    });
    return out;
  }

  array(pointer: string): unknown[] {
    const out: unknown[] = [];
    this.list(']', () => out.push(this.value(`${pointer}/${out.length}`)));
    return out;
  }
}

export function parseLocated(input: string): LocatedJson {
  const text = input.charCodeAt(0) === 0xfeff ? ` ${input.slice(1)}` : input;
  const p = new Parser(text);
  const value = p.value('');
  p.skip();
  if (p.i < text.length) p.fail('end of file after the top-level value');
  const locate = (pointer: string, key = false): TextPosition => {
    for (let ptr = pointer; ; ptr = ptr.slice(0, ptr.lastIndexOf('/'))) {
      const at = (key && ptr === pointer ? p.keys.get(ptr) : undefined) ?? p.values.get(ptr);
      if (at !== undefined) return p.position(at);
      if (ptr === '') return { line: 1, column: 1 };
    }
  };
  return { value, locate, duplicates: p.duplicates };
}
