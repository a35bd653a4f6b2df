import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { canonicalJson } from './digest.js';

/**
 * The digest's canonical text as it was first defined: JSON.stringify with a replacer
 * that makes a sorted copy of each mapping without its unset members (actions
 * capitalised; label maps keep every entry). canonicalJson makes it another way; both must
 * give the same text, or every stored digest would change meaning.
 */
function reference(value: unknown): string {
  const unset = (v: unknown): boolean => {
    if (v === null || v === undefined || v === false || v === '') return true;
    if (typeof v !== 'object') return false;
    if (Array.isArray(v)) return v.length === 0;
    return Object.values(v as object).every(unset);
  };
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v).sort()) {
      const child = (v as Record<string, unknown>)[k];
      if (key === 'matchLabels') out[k] = child;
      else if (!unset(child)) out[k] = k === 'action' && typeof child === 'string' ? child.charAt(0).toUpperCase() + child.slice(1).toLowerCase() : child;
    }
    return out;
  });
}

const key = fc.oneof(fc.constantFrom('action', 'matchLabels', 'path', 'dir', '0', '10', '9', '07', '-1', '4294967295', 'a b', '__proto__x'), fc.string({ maxLength: 6 }));
const tree = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, fc.string({ maxLength: 8 }), fc.constantFrom('', 'block', 'AUDIT', null, false, true, 0, 1.5, -3), tie('list'), tie('map')),
  list: fc.array(tie('value'), { maxLength: 4 }),
  map: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
}));

void test('the canonical text is the one the replacer definition gives, for any mapping', () => {
  fc.assert(fc.property(tree.map, (spec) => {
    assert.equal(canonicalJson(spec, ''), reference(spec));
  }), { numRuns: 2000 });
});

void test('strings are written as JSON.stringify writes them, escapes and surrogates included', () => {
  const edge = ['', 'C:\\Windows\\cmd.exe', 'say "hi"', 'tab\there', '\u0000', 'a\u001fb', '\u007f', 'line\u2028sep', '😀', '\ud800', 'x\udc00y', 'ß'];
  for (const s of edge) assert.equal(canonicalJson({ path: s, [s]: 'k' }, ''), reference({ path: s, [s]: 'k' }));
  fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 4 }), (s, k) => {
    assert.equal(canonicalJson({ [`k${k}`]: s, list: [s] }, ''), reference({ [`k${k}`]: s, list: [s] }));
  }), { numRuns: 2000 });
});

void test('label maps keep "" and null; other mappings drop unset members; integer-like keys come first', () => {
  const spec = { nodeSelector: { matchLabels: { b: '', a: null, '10': 'x', '9': 'y' } }, action: 'block', file: {}, tags: [], z: { q: '' }, '2': 'two' };
  assert.equal(canonicalJson(spec, ''), reference(spec));
  assert.equal(canonicalJson(spec, ''), '{"2":"two","action":"Block","nodeSelector":{"matchLabels":{"9":"y","10":"x","a":null,"b":""}}}');
});
