// The compiled build's schema validators (dist/validators/, generated at build time by
// scripts/validators.mjs) against the same specs compiled by ajv from the sources: the
// same verdict and the same errors on every policy of the corpus and on configs, good
// and bad. A generated validator that drifted from its spec fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAll } from 'js-yaml';
import { VALIDATORS as CONFIG_VALIDATORS } from '../../controller/config/ajv-problems.js';
import { VALIDATORS as POLICY_VALIDATORS } from '../../controller/policy/schema.js';
import { compiledValidator, type ValidateFunction, type ValidatorSpec } from '../../controller/validation/index.js';
// @ts-expect-error: plain ESM script without types
import { VALIDATOR_MODULES } from '../../scripts/validators.mjs';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const load = createRequire(join(ROOT, 'dist', 'validators', 'x.cjs'));
const generated = (spec: ValidatorSpec) => load(`./${spec.name}.cjs`) as ValidateFunction;

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'golden' ? [] : files(path);
    return /\.ya?ml$/.test(e.name) ? [path] : [];
  });
}

/** Every object document of the corpus and the examples (syntax errors skipped: nothing to validate). */
function policyDocuments(): { file: string; doc: Record<string, unknown> }[] {
  const out: { file: string; doc: Record<string, unknown> }[] = [];
  for (const file of [...files(join(ROOT, 'test/fixtures/policies')), ...files(join(ROOT, 'examples/policies'))]) {
    let docs: unknown[];
    try { docs = loadAll(readFileSync(file, 'utf8')); } catch { continue; }
    for (const doc of docs) if (doc && typeof doc === 'object' && !Array.isArray(doc)) out.push({ file, doc: doc as Record<string, unknown> });
  }
  return out;
}

function verdict(validate: ValidateFunction, data: unknown) {
  const copy = structuredClone(data);
  const valid = validate(copy);
  return { valid, errors: validate.errors ?? null, data: copy };
}

void test('the build generates a validator for every spec of the modules it lists', () => {
  assert.deepEqual([...VALIDATOR_MODULES].sort(), ['controller/config/ajv-problems.ts', 'controller/policy/schema.ts']);
  for (const spec of [...POLICY_VALIDATORS, ...CONFIG_VALIDATORS]) assert.equal(typeof generated(spec), 'function', spec.name);
});

void test('generated policy validators give the verdict and errors of ajv on every corpus document', () => {
  const docs = policyDocuments();
  assert.ok(docs.length > 20, `corpus: ${docs.length} documents`);
  let invalid = 0;
  for (const spec of POLICY_VALIDATORS) {
    const kind = spec.name.replace(/^policy-|-quick$/g, '');
    for (const { file, doc } of docs) {
      // Each document against its own kind's schema, and every one against the host policy's.
      if (doc.kind !== kind && kind !== 'KubeArmorHostPolicy') continue;
      const expected = verdict(compiledValidator(spec), doc);
      assert.deepEqual(verdict(generated(spec), doc), expected, `${spec.name} on ${file}`);
      if (!expected.valid) invalid++;
    }
  }
  assert.ok(invalid > 10, `invalid cases seen: ${invalid}`);
});

void test('the generated config validator fills the same defaults and reports the same errors', () => {
  const spec = CONFIG_VALIDATORS[0]!;
  const example = JSON.parse(readFileSync(join(ROOT, 'examples/config.json'), 'utf8')) as Record<string, unknown>;
  const cases: unknown[] = [
    {}, example, { ...example, grpc: { address: 7 } }, { ...example, bogus: true },
    { driver: { kind: 'nope' }, metrics: { maxConnections: -1 } }, { sources: { files: { paths: 'x' } } },
  ];
  for (const config of cases) assert.deepEqual(verdict(generated(spec), config), verdict(compiledValidator(spec), config), JSON.stringify(config));
});
