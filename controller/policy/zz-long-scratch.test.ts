// The fast YAML path (js-yaml 4) against the event path (js-yaml 5), the reference:
// on generated policies, valid and invalid, in block and flow styles, in multi-document
// streams, and on the corpus mutated character by character, both give the same
// documents, identities, digests, rules, problems (with line and column) and positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { parsePolicies, type ParseResult } from '/work/main/controller/policy/index.js';
import { fastDocuments } from '/work/main/controller/policy/fast-yaml.js';
import { needsEventParser } from '/work/main/controller/policy/fast-scan.js';
import { POLICY_LIMITS } from '/work/main/controller/policy/limits.js';

/** Everything a caller can observe, `locate` included (on every rule field and a few others). */
function observable(result: ParseResult): unknown {
  return {
    problems: result.problems,
    documents: result.documents.map(({ policy, ...doc }) => ({
      ...doc,
      policy: policy && {
        ...policy,
        locate: [...policy.rules.map((r) => r.field), 'spec', 'spec.severity', 'metadata.name', 'spec.nodeSelector.matchLabels', 'spec.file.nope[3]']
          .map((field) => [field, policy.locate(field)]),
      },
    })),
  };
}

function assertSamePaths(text: string): void {
  const fast = parsePolicies(text, 'p.yaml');
  const events = parsePolicies(text, 'p.yaml', { yamlParser: 'events' });
  assert.deepEqual(observable(fast), observable(events), text);
}

// ---- generated policies -------------------------------------------------------------

type Value = string | number | boolean | null | Value[] | { [key: string]: Value };

const word = fc.constantFrom('a', 'web', 'cmd.exe', 'kubernetes.io/os', 'x y', 'yes', 'null', '~', '1.5', '0o17', '1_000', '#x', "it's", '"q"', 'a: b', '- a', '');
const path = fc.constantFrom(
  'C:\\Windows\\System32\\cmd.exe', '/C:/Windows/x.exe', '%SystemRoot%\\x.exe', 'c:\\a.txt', 'C:\\Temp\\', 'C:\\Users\\*\\**\\*.log',
  'x.txt', '/etc/passwd', 'C:\\..\\b.txt', '\\\\server\\share\\x', '%USERPROFILE%\\x', 'C:/Program Files/app.exe', 'D:\\data\\',
);
const scalar: fc.Arbitrary<Value> = fc.oneof(word, path, fc.integer({ min: -3, max: 12 }), fc.boolean(), fc.constant(null), fc.constantFrom(0.5, 1e21));

const entry = fc.record({
  path: fc.option(path, { nil: undefined }),
  dir: fc.option(path, { nil: undefined }),
  pattern: fc.option(path, { nil: undefined }),
  recursive: fc.option(fc.oneof(fc.boolean(), scalar), { nil: undefined }),
  readOnly: fc.option(fc.boolean(), { nil: undefined }),
  ownerOnly: fc.option(fc.boolean(), { nil: undefined }),
  action: fc.option(fc.constantFrom('Allow', 'audit', 'Block', 'deny'), { nil: undefined }),
  severity: fc.option(fc.oneof(fc.integer({ min: 0, max: 11 }), scalar), { nil: undefined }),
  fromSource: fc.option(fc.array(fc.record({ path: fc.option(path, { nil: undefined }), dir: fc.option(path, { nil: undefined }) }, { requiredKeys: [] }), { maxLength: 2 }), { nil: undefined }),
  paht: fc.option(scalar, { nil: undefined }),
}, { requiredKeys: [] });

const category = fc.record({
  matchPaths: fc.option(fc.array(entry, { maxLength: 4 }), { nil: undefined }),
  matchDirectories: fc.option(fc.array(entry, { maxLength: 3 }), { nil: undefined }),
  matchPatterns: fc.option(fc.array(entry, { maxLength: 2 }), { nil: undefined }),
  severity: fc.option(scalar, { nil: undefined }),
}, { requiredKeys: [] });

const policy = fc.record({
  apiVersion: fc.constantFrom('security.kubearmor.com/v1', 'security.kubearmor.com/v1', 'v1', 'security.kubearmor.com/v2'),
  kind: fc.constantFrom('KubeArmorHostPolicy', 'KubeArmorHostPolicy', 'KubeArmorPolicy', 'KubeArmorClusterPolicy', 'ConfigMap'),
  metadata: fc.record({ name: fc.oneof(fc.constantFrom('p1', 'p2', 'web'), scalar), namespace: fc.option(word, { nil: undefined }) }, { requiredKeys: ['name'] }),
  spec: fc.record({
    nodeSelector: fc.option(fc.record({ matchLabels: fc.dictionary(fc.constantFrom('kubernetes.io/os', 'kubearmor.io/hostname', 'a'), word, { maxKeys: 2 }) }), { nil: undefined }),
    selector: fc.option(fc.record({ matchLabels: fc.dictionary(fc.constantFrom('app', 'tier'), word, { maxKeys: 2 }) }), { nil: undefined }),
    severity: fc.option(scalar, { nil: undefined }),
    tags: fc.option(fc.array(scalar, { maxLength: 2 }), { nil: undefined }),
    message: fc.option(scalar, { nil: undefined }),
    action: fc.option(fc.constantFrom('Allow', 'block', 'Audit', 'x'), { nil: undefined }),
    process: fc.option(category, { nil: undefined }),
    file: fc.option(category, { nil: undefined }),
    network: fc.option(fc.constant({ matchProtocols: [{ protocol: 'tcp,UDP' }] }), { nil: undefined }),
  }, { requiredKeys: [] }),
}, { requiredKeys: ['apiVersion', 'kind', 'metadata'] });

/** How to write a node: block or flow, quoting, indentation, comments. */
interface Style { flow: boolean; quote: 'plain' | 'single' | 'double'; indent: number; comments: boolean }
const style = fc.record({ flow: fc.boolean(), quote: fc.constantFrom('plain', 'single', 'double'), indent: fc.constantFrom(2, 4), comments: fc.boolean() });

const PLAIN_SAFE = /^[A-Za-z%/][^:#'"\][{},\n]*$|^-?\d+$/;

function scalarText(v: Value, s: Style): string {
  if (typeof v !== 'string') return v === null ? 'null' : String(v);
  if (s.quote === 'plain' && PLAIN_SAFE.test(v) && !v.startsWith('%') && !/\s$/.test(v)) return v;
  return s.quote === 'double' ? JSON.stringify(v) : `'${v.replace(/'/g, "''")}'`;
}

function flowText(v: Value, s: Style): string {
  if (Array.isArray(v)) return `[${v.map((x) => flowText(x, s)).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${scalarText(k, s)}: ${flowText(x, s)}`).join(', ')}}`;
  return scalarText(v, s);
}

/** Block style for the first levels, then flow (as people write policies). */
function blockText(v: Value, s: Style, depth: number): string {
  const pad = ' '.repeat(depth * s.indent);
  const comment = s.comments ? `${pad}# note: *, &, ]: kept\n` : '';
  if (depth >= 3 && s.flow) return ` ${flowText(v, s)}\n`;
  if (Array.isArray(v) && v.length > 0) return `\n${v.map((x) => `${comment}${pad}-${blockText(x, s, depth + 1).replace(/^\n\s*/, ' ')}`).join('')}`;
  if (v !== null && typeof v === 'object' && Object.keys(v).length > 0) {
    return `\n${Object.entries(v).map(([k, x]) => `${comment}${pad}${scalarText(k, s)}:${blockText(x, s, depth + 1)}`).join('')}`;
  }
  return ` ${flowText(v, s)}\n`;
}

const clean = (v: unknown): Value => JSON.parse(JSON.stringify(v)) as Value;
const documentText = (v: Value, s: Style): string => blockText(v, s, 0).replace(/^\n/, '');

const stream = fc.array(fc.tuple(policy, style, fc.constantFrom('---\n', '---\n', '--- # next\n', '\n---\n\n', '---\n---\n')), { minLength: 1, maxLength: 3 })
  .map((docs) => docs.map(([p, s, separator], i) => `${i === 0 && separator === '---\n---\n' ? '' : separator}${documentText(clean(p), s)}`).join(''));

void test('generated policy streams: the fast path equals the event path', () => {
  fc.assert(fc.property(stream, fc.boolean(), (text, crlf) => assertSamePaths(crlf ? text.replace(/\n/g, '\r\n') : text)), { numRuns: 2500 });
});

// ---- the corpus, mutated ------------------------------------------------------------

const corpusRoot = new URL('file:///work/main/test/fixtures/policies/', import.meta.url).pathname;
const corpus = ['valid', 'invalid', 'posix'].flatMap((dir) =>
  readdirSync(join(corpusRoot, dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => readFileSync(join(corpusRoot, dir, f), 'utf8')));

const INTERESTING = [' ', '\n', '\t', ':', '-', '#', '[', ']', '{', '}', ',', "'", '"', '*', '&', '!', '?', '|', '>', '%', '@', '\\', 'a', '0', '---\n', '...\n', '<<: ', '  ', '\r\n'];
const mutation = fc.record({ at: fc.nat(), remove: fc.nat({ max: 3 }), insert: fc.constantFrom(...INTERESTING) });

void test('the corpus with random edits: the fast path equals the event path', () => {
  fc.assert(fc.property(fc.constantFrom(...corpus), fc.array(mutation, { minLength: 1, maxLength: 3 }), (text, edits) => {
    let mutated = text;
    for (const e of edits) {
      const at = e.at % (mutated.length + 1);
      mutated = mutated.slice(0, at) + e.insert + mutated.slice(at + e.remove);
    }
    assertSamePaths(mutated);
  }), { numRuns: 5000 });
});

// ---- what the fast path must leave to the event path --------------------------------

void test('anchors, aliases, tags, merge keys, complex keys and directives go to the event path', () => {
  for (const text of ['a: &x 1\nb: *x\n', 'a: !!str 1\n', '? a\n: b\n', '[a]: b\n', '{a: 1}: b\n', 'a: {b: 1}\n<<: {c: 2}\n', '%YAML 1.2\n---\na: 1\n', 'a: 1\n...\n', '\uFEFFa: 1\n']) {
    assert.equal(needsEventParser(text), true, text);
  }
  for (const text of ["a: 'x\ny'\n", 'a: "x\ny"\n', 'a: [x,\n  y]\n', 'a: {b: c,\n d: e}\n', 'a: {b, {}}\n', 'a: {[b]}\n']) {
    assert.equal(needsEventParser(text), true, `flow syntax read differently: ${text}`);
  }
  for (const text of ['a: C:\\Users\\*\\**\\*.log\n', "a: ['/x/*']\nb: {c: d}\n", 'a: it\'s [x]\nb: "c" # \'\n']) {
    assert.equal(needsEventParser(text), false, text);
  }
});

void test('the fast path refuses what would break a limit, so the event path reports it', () => {
  const deep = `a: ${'['.repeat(70)}${']'.repeat(70)}\n`;
  assert.equal(fastDocuments(deep, POLICY_LIMITS), undefined, 'nesting near maxDepth');
  assert.deepEqual(parsePolicies(deep, 'p.yaml').problems.map((p) => p.code), ['limit.depth']);
  const big = `a: ${'x'.repeat(2000)}\n`;
  assert.equal(fastDocuments(big, { ...POLICY_LIMITS, maxDocumentBytes: 1000 }), undefined, 'a document near maxDocumentBytes');
  const bomb = `a: &a [x, x]\nb: &b [*a, *a]\nc: &c [*b, *b]\n${Array.from({ length: 20 }, (_, i) => `d${i}: [*c, *c]`).join('\n')}\n`;
  assert.equal(fastDocuments(bomb, POLICY_LIMITS), undefined, 'an alias bomb never reaches js-yaml 4');
  assertSamePaths(deep);
  assertSamePaths(bomb);
});

void test('a typical policy file takes the fast path', () => {
  const text = readFileSync(join(corpusRoot, 'valid', 'host-windows-spellings.yaml'), 'utf8');
  assert.ok(fastDocuments(text, POLICY_LIMITS), 'host-windows-spellings.yaml');
});
