/**
 * Fast encoders for the three feed messages (Alert, Log, Message). The generated
 * encoder allocates per string and per map entry, which alone would cap the feed below
 * its 200k events/s target. These are compiled once, at load, from the field tables
 * below into straight-line functions (monomorphic property reads, tag bytes as
 * constants): size first, then write into one Buffer. Consecutive events share most
 * fields, so each run of fields that usually repeat keeps the bytes it last wrote and
 * copies them when a message repeats those values (`runCode`). The bytes are identical
 * to the generated encoder's (encode.test.ts checks that on random messages and on
 * sequences of them), so every client decodes them as usual.
 */
import type { Alert, Log, Message } from '../../../proto/gen/feeder.js';
import { FRAME_PREFIX, writePrefix, type FrameBatch } from '../stream/frames.js';

const enum Kind { Str, I32, I64, Strs, Map, Msg }
/** `perEvent`: the field usually differs from one message to the next (see `compile`). */
interface Field { name: string; tag: number; kind: Kind; perEvent: boolean; sub?: Field[] }

/** `'1:Timestamp:i64! 2:UpdatedTime:s! 3:ClusterName:s …'` → fields in that (wire) order; `!`: per event. */
function schema(spec: string, subs: Record<string, Field[]> = {}): Field[] {
  const kinds: Record<string, Kind> = { s: Kind.Str, i32: Kind.I32, i64: Kind.I64, ss: Kind.Strs, map: Kind.Map, msg: Kind.Msg };
  return spec.trim().split(/\s+/).map((item) => {
    const [num, name, k] = item.split(':') as [string, string, string];
    const kind = kinds[k.replace(/!$/, '')]!;
    const wire = kind === Kind.I32 || kind === Kind.I64 ? 0 : 2;
    return { name, tag: (Number(num) << 3) | wire, kind, perEvent: k.endsWith('!') || kind === Kind.Msg, sub: subs[name] };
  });
}

const OWNER = schema('1:Ref:s 2:Name:s 3:Namespace:s');
const EXEC = schema('1:ExecID:s 2:ExecutableName:s');
const subs = { Owner: OWNER, ExecEvent: EXEC };

export const ALERT_FIELDS = schema(`1:Timestamp:i64! 2:UpdatedTime:s! 3:ClusterName:s 4:HostName:s 5:NamespaceName:s 6:PodName:s
  7:ContainerID:s 8:ContainerName:s 9:HostPID:i32! 10:PPID:i32! 11:PID:i32! 12:UID:i32 13:PolicyName:s! 14:Severity:s 15:Tags:s
  16:Message:s 17:Type:s 18:Source:s 19:Operation:s 20:Resource:s! 21:Data:s 22:Action:s 23:Result:s 24:ContainerImage:s
  25:ParentProcessName:s 26:ProcessName:s 27:HostPPID:i32! 28:Enforcer:s 29:Labels:s 30:ATags:ss 31:Owner:msg 32:Cwd:s 33:TTY:s
  34:MaxAlertsPerSec:i32 35:DroppingAlertsInterval:i32 36:ExecEvent:msg 37:KubeArmorVersion:s 38:NodeID:s 39:ProcessHash:s
  40:ParentHash:s 41:ResourceHash:s 42:HashAlgo:s 43:EventData:map 44:UserName:s`, subs);

export const LOG_FIELDS = schema(`1:Timestamp:i64! 2:UpdatedTime:s! 3:ClusterName:s 4:HostName:s 5:NamespaceName:s 6:PodName:s
  7:ContainerID:s 8:ContainerName:s 9:HostPID:i32! 10:PPID:i32! 11:PID:i32! 12:UID:i32 13:Type:s 14:Source:s 15:Operation:s
  16:Resource:s! 17:Data:s 18:Result:s 19:ContainerImage:s 20:ParentProcessName:s 21:ProcessName:s 22:HostPPID:i32! 23:Labels:s
  24:Owner:msg 25:Cwd:s 26:TTY:s 27:ExecEvent:msg 28:NodeID:s 29:ProcessHash:s 30:ParentHash:s 31:ResourceHash:s 32:HashAlgo:s
  33:EventData:map 34:UserName:s`, subs);

export const MESSAGE_FIELDS = schema('1:Timestamp:i64! 2:UpdatedTime:s! 3:ClusterName:s 4:HostName:s 5:HostIP:s 6:Type:s 7:Level:s 8:Message:s!');

/** Varint size of a non-negative integer below 2^53. */
function vsize(v: number): number {
  if (v < 0x80) return 1;
  if (v < 0x4000) return 2;
  if (v < 0x200000) return 3;
  if (v < 0x10000000) return 4;
  let n = 4;
  for (let x = Math.floor(v / 0x10000000); x > 0; x = Math.floor(x / 128)) n++;
  return n;
}

/** int32/int64 varint size as protobuf writes them (negatives: 10 bytes). */
function isize(v: number): number {
  return v < 0 ? 10 : vsize(v);
}

function wvarint(b: Buffer, p: number, v: number): number {
  while (v > 0x7f) {
    b[p++] = (v % 128) | 0x80;
    v = Math.floor(v / 128);
  }
  b[p++] = v;
  return p;
}

function wint(b: Buffer, p: number, v: number): number {
  if (v >= 0) return wvarint(b, p, v);
  let u = BigInt.asUintN(64, BigInt(v)); // two's complement, 10 bytes
  for (let i = 0; i < 9; i++, u >>= 7n) b[p++] = Number(u & 0x7fn) | 0x80;
  b[p++] = Number(u);
  return p;
}

/**
 * Strings up to this many code units are measured and written by a loop in JS; longer
 * ones by Node's native UTF-8 and Latin-1 routines, whose call costs about as much as
 * this many iterations (bench:events measures the encoder as part of the pipeline).
 */
const SHORT = 8;

/** UTF-8 length of `s`. */
function slen(s: string): number {
  const l = s.length;
  if (l > SHORT) return Buffer.byteLength(s, 'utf8');
  for (let i = 0; i < l; i++) if (s.charCodeAt(i) > 0x7f) return Buffer.byteLength(s, 'utf8');
  return l;
}

/**
 * Buffer's encoding-specific writers: what `write(s, p, n, encoding)` calls after parsing
 * its arguments (present on every Node Buffer, not in its type declarations).
 */
interface RawWrites {
  utf8Write(s: string, offset: number, length: number): number;
  latin1Write(s: string, offset: number, length: number): number;
}

/** Writes `s` (UTF-8 length `n`) at `p`. ASCII (n = length) is also its Latin-1 bytes. */
function wstr(b: Buffer, p: number, s: string, n: number): number {
  if (n !== s.length) return p + (b as unknown as RawWrites).utf8Write(s, p, n);
  if (n > SHORT) return p + (b as unknown as RawWrites).latin1Write(s, p, n);
  for (let i = 0; i < n; i++) b[p + i] = s.charCodeAt(i);
  return p + n;
}

/** `x` (a run of fields' bytes kept from an earlier message) copied to `b` at `p`. */
function copy(b: Buffer, p: number, x: Buffer): number {
  const n = x.length;
  if (n > SHORT) return p + x.copy(b, p);
  for (let i = 0; i < n; i++) b[p + i] = x[i]!;
  return p + n;
}

/** A copy of `b[from, to)`: a run of fields' bytes, kept for the next message that repeats them. */
function keep(b: Buffer, from: number, to: number): Buffer {
  return Buffer.from(b.subarray(from, to));
}

/** A repeated field's value equals the kept one: same strings in the same order (kept as a copy). */
function sameStrs(v: readonly string[] | undefined, kept: unknown): boolean {
  if (!Array.isArray(v) || !Array.isArray(kept)) return v === kept;
  if (v.length !== kept.length) return false;
  for (let i = 0; i < v.length; i++) if (v[i] !== kept[i]) return false;
  return true;
}

/** A map is the kept one only when it is the same object and frozen (nobody changed it since). */
function sameMap(v: object | undefined, kept: unknown): boolean {
  return v === kept && (v === undefined || v === null || Object.isFrozen(v));
}

/** What a run keeps of a field's value to compare later messages with. */
function keepValue(v: unknown): unknown {
  return Array.isArray(v) ? [...(v as unknown[])] : v;
}

const helpers = { vsize, isize, wvarint, wint, slen, wstr, copy, keep, sameStrs, sameMap, keepValue };

function tagBytes(tag: number): string {
  const bytes: number[] = [];
  for (let t = tag; ; t >>>= 7) {
    if (t < 0x80) { bytes.push(t); break; }
    bytes.push((t & 0x7f) | 0x80);
  }
  return bytes.map((x) => `b[p++]=${x};`).join('');
}

function tagSize(tag: number): number {
  return vsize(tag);
}

/** Source of `size(m, L)` and `write(b, p, m, L, c)` for one field; L holds lengths in write order. */
function fieldCode(f: Field, sub: string): [string, string] {
  const v = `m[${JSON.stringify(f.name)}]`;
  const T = tagSize(f.tag);
  const tag = tagBytes(f.tag);
  switch (f.kind) {
    case Kind.Str:
      return [`v=${v};if(v!==''&&v!==undefined){n=h.slen(v);L.push(n);t+=${T}+h.vsize(n)+n;}`,
        `v=${v};if(v!==''&&v!==undefined){n=L[c.i++];${tag}p=h.wvarint(b,p,n);p=h.wstr(b,p,v,n);}`];
    case Kind.I32:
    case Kind.I64:
      return [`v=${v};if(v!==0&&v!==undefined){t+=${T}+h.isize(v);}`, `v=${v};if(v!==0&&v!==undefined){${tag}p=h.wint(b,p,v);}`];
    case Kind.Strs:
      return [`v=${v};if(v)for(const s of v){n=h.slen(s);L.push(n);t+=${T}+h.vsize(n)+n;}`,
        `v=${v};if(v)for(const s of v){n=L[c.i++];${tag}p=h.wvarint(b,p,n);p=h.wstr(b,p,s,n);}`];
    case Kind.Map:
      return [`v=${v};for(const k in v){const kl=h.slen(k),vl=h.slen(v[k]);n=(kl?1+h.vsize(kl)+kl:0)+(vl?1+h.vsize(vl)+vl:0);L.push(n,kl,vl);t+=${T}+h.vsize(n)+n;}`,
        `v=${v};for(const k in v){n=L[c.i++];const kl=L[c.i++],vl=L[c.i++];${tag}p=h.wvarint(b,p,n);if(kl){b[p++]=10;p=h.wvarint(b,p,kl);p=h.wstr(b,p,k,kl);}if(vl){b[p++]=18;p=h.wvarint(b,p,vl);p=h.wstr(b,p,v[k],vl);}}`];
    default:
      return [`v=${v};if(v!=null){const at=L.push(0)-1;n=${sub}.size(v,L);L[at]=n;t+=${T}+h.vsize(n)+n;}`,
        `v=${v};if(v!=null){n=L[c.i++];${tag}p=h.wvarint(b,p,n);p=${sub}.write(b,p,v,L,c);}`];
  }
}

interface Compiled {
  size(m: unknown, L: number[]): number;
  write(b: Buffer, p: number, m: unknown, L: number[], c: { i: number }): number;
}

/** Consecutive fields: one per-event field alone, or a run of the others. */
type Run = { perEvent: true; field: Field } | { perEvent: false; fields: Field[] };

function runsOf(fields: Field[]): Run[] {
  const runs: Run[] = [];
  for (const f of fields) {
    const last = runs.at(-1);
    if (f.perEvent) runs.push({ perEvent: true, field: f });
    else if (last && !last.perEvent) last.fields.push(f);
    else runs.push({ perEvent: false, fields: [f] });
  }
  return runs;
}

/**
 * Source of one run of fields that usually repeat from one message to the next (the
 * cluster, the rule's severity and tags, the process, the user…): the run keeps the
 * values it last encoded (`K`, from index `k0`) and, once a message repeats them all, their
 * bytes (`G[g]`). A message with the same values then gets those bytes copied, instead
 * of every string being measured and written again. The size pass only reads what is
 * kept and the write pass updates it, so both see the same state; the bytes are those
 * the fields' own code wrote for equal values, so the output is the same either way.
 */
function runCode(fields: Field[], subOf: (f: Field) => string, g: number, k0: number): [string, string] {
  const same = fields.map((f, j) => {
    const v = `m[${JSON.stringify(f.name)}]`;
    const kept = `K[${k0 + j}]`;
    if (f.kind === Kind.Strs) return `h.sameStrs(${v},${kept})`;
    if (f.kind === Kind.Map) return `h.sameMap(${v},${kept})`;
    return `${v}===${kept}`;
  }).join('&&');
  const store = fields.map((f, j) => `K[${k0 + j}]=h.keepValue(m[${JSON.stringify(f.name)}]);`).join('');
  const code = fields.map((f) => fieldCode(f, subOf(f)));
  return [`if(${same}&&(x=G[${g}])!==undefined)t+=x.length;else{${code.map((c) => c[0]).join('')}}`,
    `if(${same}&&(x=G[${g}])!==undefined)p=h.copy(b,p,x);else{const at=p;${code.map((c) => c[1]).join('')}` +
    `if(${same})G[${g}]=h.keep(b,at,p);else{${store}G[${g}]=undefined;}}`];
}

function compile(fields: Field[]): Compiled {
  const subs = new Map(fields.filter((f) => f.sub).map((f, i) => [f, { index: i, compiled: compile(f.sub!) }]));
  const subOf = (f: Field): string => (subs.has(f) ? `s[${subs.get(f)!.index}]` : '');
  const runs = runsOf(fields);
  let kept = 0;
  const code = runs.map((r, g) => {
    if (r.perEvent) return fieldCode(r.field, subOf(r.field));
    const c = runCode(r.fields, subOf, g, kept);
    kept += r.fields.length;
    return c;
  });
  const sizeSrc = `let t=0,v,n,x;${code.map((c) => c[0]).join('\n')}return t;`;
  const writeSrc = `let v,n,x;${code.map((c) => c[1]).join('\n')}return p;`;
  // Generated from the constant field tables above, never from input.
  const make = new Function('h', 's', 'K', 'G', `return { size(m,L){${sizeSrc}}, write(b,p,m,L,c){${writeSrc}} };`) as
    (h: typeof helpers, s: Compiled[], K: unknown[], G: (Buffer | undefined)[]) => Compiled;
  // Nothing is kept at first: a fresh object equals no field's value.
  const nothing = {};
  return make(helpers, [...subs.values()].map((s) => s.compiled), new Array<unknown>(kept).fill(nothing), new Array<Buffer | undefined>(runs.length).fill(undefined));
}

/** Encodes a message as bytes of its own, or framed (frames.ts) into a FrameBatch. */
export interface FeedEncoder<T> {
  (m: T): Buffer;
  /** Appends `m` framed (5-byte prefix + message) to `batch`; returns its framed size. */
  frameInto(m: T, batch: FrameBatch): number;
}

function encoder<T>(fields: Field[]): FeedEncoder<T> {
  const compiled = compile(fields);
  // The lengths and the cursor of one message, reused: an encode runs to its end before
  // the next starts (nothing in it calls out), so one of each serves every message.
  const L: number[] = [];
  const c = { i: 0 };
  const size = (m: T): number => {
    L.length = 0;
    c.i = 0;
    return compiled.size(m, L);
  };
  const encode = ((m: T) => {
    const b = Buffer.allocUnsafe(size(m));
    compiled.write(b, 0, m, L, c);
    return b;
  }) as FeedEncoder<T>;
  encode.frameInto = (m, batch) => {
    const n = size(m);
    const at = batch.reserve(FRAME_PREFIX + n);
    const b = batch.buffer;
    writePrefix(b, at, n);
    compiled.write(b, at + FRAME_PREFIX, m, L, c);
    batch.commit(FRAME_PREFIX + n);
    return FRAME_PREFIX + n;
  };
  return encode;
}

export const encodeAlert: FeedEncoder<Alert> = encoder(ALERT_FIELDS);
export const encodeLog: FeedEncoder<Log> = encoder(LOG_FIELDS);
export const encodeMessage: FeedEncoder<Message> = encoder(MESSAGE_FIELDS);
