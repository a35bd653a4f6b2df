// The common-shape reader against js-yaml: whatever it reads, it reads as js-yaml does
// (values with their key order, document indices, offsets); whatever it is unsure of,
// it leaves. Generated texts in many styles, the same texts mutated a character at a
// time, and every YAML file of the repository.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import fc from 'fast-check';
import { readCommonYaml } from './yaml-common.js';
import { splitDocuments, splitWithEvents, YAML_SCHEMA } from './yaml.js';
import { POLICY_LIMITS, type PolicyLimits } from './limits.js';
import { parsePolicies } from './parse.js';
import { policyText } from '../../bench/policy/texts.js';

const LIMITS: PolicyLimits = { ...POLICY_LIMITS };

/** Fails when the reader's documents differ from js-yaml's; true when the reader took the text. */
function agrees(text: string, limits = LIMITS): boolean {
  const common = readCommonYaml(text, YAML_SCHEMA, limits);
  if (!common) return false;
  const reference = splitWithEvents(text, limits);
  const where = `text ${JSON.stringify(text)}`;
  assert.ok(!('error' in reference), `${where}: read, but js-yaml refuses it: ${'error' in reference ? reference.error.message : ''}`);
  const refused = reference.documents.find((d) => d.error);
  assert.equal(refused, undefined, `${where}: read, but js-yaml refuses a document: ${refused?.error?.message}`);
  const expected = reference.documents.map((d) => ({ index: d.index, start: d.start, value: d.value }));
  assert.deepStrictEqual(common, expected, where);
  assert.deepStrictEqual(common.map((d) => keyOrder(d.value)), expected.map((d) => keyOrder(d.value)), `${where}: key order`);
  return true;
}

function keyOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(keyOrder);
  if (typeof v === 'object' && v !== null) return Object.entries(v).map(([k, x]) => [k, keyOrder(x)]);
  return typeof v;
}

// ---- generated texts ----

const WORDS = [
  'true', 'False', 'TRUE', 'null', 'Null', '~', '0x1F', '0o17', '0b1', '1e3', '1.5', '.inf', '-.Inf', '.NaN', '+1', '-0', '012', '1_000',
  'yes', 'on', '<<', '', '-', '?', ':', '- a', 'a: b', 'a #b', 'a#b', '%SystemRoot%\\x', 'C:\\Windows\\x.exe', '/C:/x', 'http://x:80/y',
  'é', '---', '...', '[a]', '{a: b}', "it's", 'say "hi"', '\\', '  lead', 'trail  ', '__proto__', 'constructor', 'toString', '1', '2.0',
  'path', 'dir', 'action', 'Block', 'matchPaths', 'a b', '-x', '?x', ':x', 'x:', 'x:y', '!x', '&a', '*a', '|', '>', '@x', '`x',
];
const CHARS = [...'ab1.-?:# \'"\\%@`!&*|><,[]{}~_+eé/', '\t', '\n', '\r', '\u0000', '\u0085', '\u2028', '\ufeff', '\u{1F600}', '\u00a0'];
const text = fc.oneof(
  { arbitrary: fc.stringMatching(/^[A-Za-z%/][\w .:/\\%-]{0,10}$/), weight: 4 },
  { arbitrary: fc.constantFrom(...WORDS), weight: 2 },
  { arbitrary: fc.array(fc.constantFrom(...CHARS), { maxLength: 8 }).map((a) => a.join('')), weight: 1 },
);

type Node = string | number | boolean | null | { map: [string, Node][] } | { seq: Node[] };
const { node, map, seq } = fc.letrec<{ node: Node; map: Node; seq: Node; scalar: Node }>((tie) => ({
  node: fc.oneof({ depthSize: 'small' }, tie('scalar'), tie('map'), tie('seq')),
  scalar: fc.oneof(text, text, fc.integer({ min: -1000, max: 1000 }), fc.boolean(), fc.constant(null), fc.double({ noNaN: false })),
  map: fc.array(fc.tuple(text, tie('node')), { maxLength: 4 }).map((map) => ({ map })),
  seq: fc.array(tie('node'), { maxLength: 4 }).map((seq) => ({ seq })),
}));

const ESCAPES: Record<string, string[]> = { '\n': ['\\n'], '\t': ['\\t', '\t'], '"': ['\\"'], '\\': ['\\\\'], 'a': ['\\x61', '\\u0061', 'a'], 'é': ['\\xe9', '\\u00e9', 'é'], '/': ['\\/', '/'], ' ': [' ', '\\ ', '\\_'], '\u0000': ['\\0'], '\r': ['\\r'] };

/** Writes a node in YAML, every stylistic choice taken from `choices`. */
class Writer {
  private i = 0;
  constructor(private readonly choices: number[]) {}

  pick(n: number): number {
    return this.choices.length === 0 ? 0 : this.choices[this.i++ % this.choices.length]! % n;
  }

  scalar(v: Node): string {
    if (typeof v !== 'string') return typeof v === 'object' && v !== null ? this.flow(v) : String(v);
    switch (this.pick(5)) {
      case 0: return `'${v.replace(/'/g, "''")}'`;
      case 1: return JSON.stringify(v);
      case 2: return `"${[...v].map((c) => { const e = ESCAPES[c] ?? [c]; return e[this.pick(e.length)]; }).join('')}"`;
      default: return v;
    }
  }

  flow(v: Node): string {
    const sep = [', ', ',', ' , ', ',  '][this.pick(4)];
    if (typeof v !== 'object' || v === null) return this.scalar(v);
    if ('seq' in v) return `[${v.seq.map((x) => this.flow(x)).join(sep)}]`;
    return `{${v.map.map(([k, x]) => `${this.scalar(k)}: ${this.flow(x)}`).join(sep)}}`;
  }

  comment(): string {
    return [' # c', '  #c', ' #', '#x', ''][this.pick(8) % 5] ?? '';
  }

  block(v: Node, indent: number): string[] {
    const pad = ' '.repeat(indent);
    if (typeof v !== 'object' || v === null || this.pick(6) === 0 || ('map' in v ? v.map.length === 0 : v.seq.length === 0)) {
      return [`${pad}${this.flow(v)}${this.comment()}`];
    }
    const step = 1 + this.pick(4);
    const lines: string[] = [];
    if ('map' in v) {
      for (const [k, x] of v.map) {
        const key = `${pad}${this.scalar(k)}${[':', ' :', ':'][this.pick(3)]}`;
        if (typeof x !== 'object' || x === null || this.pick(4) === 0) lines.push(`${key} ${this.flow(x)}${this.comment()}`);
        else if ('seq' in x && this.pick(2) === 0) lines.push(`${key}${this.comment()}`, ...this.block(x, indent));
        else lines.push(`${key}${this.comment()}`, ...this.block(x, indent + step));
        if (this.pick(10) === 0) lines.push(['', '   ', `${pad}# between`, '# at 0'][this.pick(4)]!);
      }
    } else {
      for (const x of v.seq) {
        if (typeof x !== 'object' || x === null || this.pick(4) === 0) lines.push(`${pad}- ${this.flow(x)}${this.comment()}`);
        else if (this.pick(2) === 0) {
          const inner = this.block(x, indent + 2);
          lines.push(`${pad}- ${inner[0]!.slice(indent + 2)}`, ...inner.slice(1));
        } else lines.push(`${pad}-${this.comment()}`, ...this.block(x, indent + step));
      }
    }
    return lines;
  }

  stream(docs: Node[]): string {
    const parts = docs.map((d) => this.block(d, this.pick(5) === 0 ? 1 : 0).join('\n'));
    const markers = ['---', '--- # doc', '---  ', '---\n'];
    let out = (this.pick(3) === 0 ? `${markers[this.pick(4)]}\n` : '') + parts.join(`\n${markers[this.pick(4)]}\n`);
    if (this.pick(4) === 0) out += `\n${markers[this.pick(4)]}`;
    out += ['\n', '', '\n\n', '\n# end\n'][this.pick(4)];
    return this.pick(6) === 0 ? out.replace(/\n/g, '\r\n') : out;
  }
}

const root = fc.oneof({ arbitrary: map, weight: 6 }, { arbitrary: seq, weight: 1 }, { arbitrary: node, weight: 1 });
const documents = fc.array(root, { minLength: 1, maxLength: 3 });
const choices = fc.array(fc.nat({ max: 1000 }), { minLength: 1, maxLength: 40 });
const yamlText = fc.tuple(documents, choices).map(([docs, c]) => new Writer(c).stream(docs));

const edit = fc.tuple(fc.nat(), fc.constantFrom('delete', 'insert', 'indent', 'dedent', 'duplicate'), fc.constantFrom(...CHARS, '\n', ' ', '- ', ': ', '---\n', '  '));
function mutate(t: string, edits: [number, string, string][]): string {
  for (const [at, kind, chars] of edits) {
    const i = t.length === 0 ? 0 : at % t.length;
    const lineStart = t.lastIndexOf('\n', i - 1) + 1;
    switch (kind) {
      case 'delete': t = t.slice(0, i) + t.slice(i + 1); break;
      case 'insert': t = t.slice(0, i) + chars + t.slice(i); break;
      case 'indent': t = `${t.slice(0, lineStart)} ${t.slice(lineStart)}`; break;
      case 'dedent': t = t[lineStart] === ' ' ? t.slice(0, lineStart) + t.slice(lineStart + 1) : t; break;
      default: {
        const end = t.indexOf('\n', i);
        const line = t.slice(lineStart, end < 0 ? t.length : end + 1);
        t = t.slice(0, lineStart) + line + (line.endsWith('\n') ? '' : '\n') + t.slice(lineStart);
      }
    }
  }
  return t;
}

void test('generated YAML in every style: what the reader reads, it reads as js-yaml does', () => {
  let read = 0;
  let valid = 0;
  fc.assert(fc.property(yamlText, (t) => {
    if (agrees(t)) read++;
    const reference = splitWithEvents(t, LIMITS);
    if (!('error' in reference) && !reference.documents.some((d) => d.error)) valid++;
  }), { numRuns: 10000 });
  // The texts must reach the reader: if it left nearly everything, this test would prove nothing.
  assert.ok(valid > 500 && read > valid * 0.4, `the reader took ${read} of the ${valid} generated texts that js-yaml reads`);
});

void test('mutated YAML: the reader never takes a text js-yaml reads differently or refuses', () => {
  fc.assert(fc.property(yamlText, fc.array(edit, { minLength: 1, maxLength: 3 }), (t, edits) => {
    agrees(mutate(t, edits));
  }), { numRuns: 10000 });
});

void test('hand-picked edges: left to js-yaml, or read as js-yaml reads them', () => {
  const edges = [
    '', '# only a comment\n', '---\n', '---', 'a: 1\n---\nb: 2', '---\n---\na: 1', 'a: 1\n---\n', 'a: 1\n...\n', '%YAML 1.2\n---\na: 1',
    'a: b: c', 'a: - b', 'a:\n- x\n- y\nb: 1', '- - a\n  - b\n- c', '- a: 1\n  b: 2\n- c: 3', 'a:\n  b\n', 'a: b\n  c\n', 'a: 1\na: 2',
    '<<: {a: 1}', 'a: <<', '__proto__: 1', 'a: {__proto__: 1}', 'a: &x 1\nb: *x', 'a: !!str 1', 'a: |\n  x\n', "a: 'x\n  y'", 'a: "x\\\n  y"',
    'a: [1,\n  2]', 'a: {b: 1, }', 'a: [1, , 2]', 'a: {b}', 'a: {b: }', 'a: {"b":1}', 'a: "\\e\\N"', 'a: "\\x4"', 'a: "\\ud800"', 'a:\tb', '\ta: 1',
    'a: 1\r\nb: 2\r\n', 'a: 1\rb: 2', '\ufeffa: 1', 'a: b\u0085c', 'a: b\u2028c', 'a: \u{1F600}', 'a: "tab\there"', 'a: x #c\nb: y#z', 'a:    # c\n  b: 1',
    ' a: 1\n b: 2', ' a: 1\nb: 2', '{a: 1}\nb: 2', '[a, b]', '- a\n-\n- b', 'a:\n  -\n    b: 1', 'true: 1', '1: a', '"1": a', 'null: x', '~: x',
    `${'k'.repeat(1100)}: 1`, 'a: 0x1F\nb: .inf\nc: -.Inf\nd: .nan\ne: 1e3\nf: 012\ng: ~\nh: TRUE\ni: yes', 'a: -\nb: ?x\nc: :x\nd: x:',
    'a: [x]: y', 'a: b #c: d', "a: 'it''s'", 'a: { }', 'a: [ ]', 'a: {b: [ ], c: { }}', '-   a: 1\n    b: 2', 'a b  c: d  e', 'é: ü', '? a\n: b', 'a: "\\/\\"\\\\\\t"', 'a:\n\n\n  b: 1\n\n', 'a: "x" y', "'a' : b", "'a':b",
  ];
  for (const t of edges) agrees(t);
});

void test('the reader takes the common shapes: every bench policy, the repository\'s own fixtures and examples', () => {
  for (let i = 0; i < 20; i++) assert.ok(agrees(policyText(i)), `bench text ${i} was left to js-yaml`);
  const files = execFileSync('git', ['ls-files', '*.yaml', '*.yml'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  assert.ok(files.length > 200, `only ${files.length} YAML files found`);
  let read = 0;
  for (const file of files) if (agrees(readFileSync(file, 'utf8'))) read++;
  assert.ok(read / files.length > 0.8, `the reader took ${read} of ${files.length} YAML files of the repository`);
});

void test('limits: depth and size near a limit are js-yaml\'s to decide', () => {
  const deep = `${Array.from({ length: 10 }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n')} 1\n`;
  assert.ok(agrees(deep));
  assert.equal(readCommonYaml(deep, YAML_SCHEMA, { ...LIMITS, maxDepth: 10 }), undefined);
  // Around the depth limit, block and flow: whatever the reader takes, js-yaml takes under the same limit.
  for (let maxDepth = 2; maxDepth <= 10; maxDepth++) {
    for (let nesting = 1; nesting <= 10; nesting++) {
      const block = `${Array.from({ length: nesting }, (_, i) => `${'  '.repeat(i)}k${i}:`).join('\n')} 1\n`;
      const flow = `a: ${'['.repeat(nesting)}1${']'.repeat(nesting)}\n`;
      const entries = `${Array.from({ length: nesting }, (_, i) => `${'  '.repeat(i)}-`).join('\n')} x\n`;
      for (const t of [block, flow, entries]) agrees(t, { ...LIMITS, maxDepth });
    }
  }
  const big = `a: ${'x'.repeat(5000)}\n`;
  assert.ok(agrees(big));
  assert.equal(readCommonYaml(big, YAML_SCHEMA, { ...LIMITS, maxDocumentBytes: 6000 }), undefined);
  const split = splitDocuments(big, { ...LIMITS, maxDocumentBytes: 4000 });
  assert.ok('documents' in split && split.documents[0]?.error?.code === 'limit.size');
});

void test('a problem in a text the reader took is reported where js-yaml places it', () => {
  const t = 'apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata: {name: p}\nspec:\n  severity: 5\n  file:\n    matchPaths:\n      - path: C:\\a.txt\n        action: Explode\n';
  // The same text with an anchor on the last line, which only js-yaml reads.
  const withEvents = `${t}x: &a 1\n`;
  assert.ok(readCommonYaml(t, YAML_SCHEMA, LIMITS));
  assert.equal(readCommonYaml(withEvents, YAML_SCHEMA, LIMITS), undefined);
  const problems = parsePolicies(t, 'p.yaml').documents[0]!.problems;
  assert.deepEqual(problems.find((p) => p.path.endsWith('action')), {
    severity: 'error', code: 'schema', location: 'p.yaml', line: 9, column: 17, path: 'spec.file.matchPaths[0].action', message: 'expected one of Allow, Audit, Block; got "Explode"',
  });
  assert.deepEqual(problems, parsePolicies(withEvents, 'p.yaml').documents[0]!.problems.filter((p) => p.path !== 'x'));
});
