// The compiled build's schema validators: ajv's standalone code, generated at build time
// from the specs that kawin's modules export as VALIDATORS (each module is listed here),
// one CommonJS file per validator under dist/validators/, with ajv's few run-time helpers
// bundled in. The bundle's controller/validation module loads a file at its first use,
// so the compiled CLI and agent neither load ajv nor compile a schema at run time.
import { build } from 'esbuild';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { tsImport } from 'tsx/esm/api';

/** Modules that export VALIDATORS (ValidatorSpec[], controller/validation). */
export const VALIDATOR_MODULES = ['controller/policy/schema.ts', 'controller/config/ajv-problems.ts'];

/** The module the bundle replaces with VALIDATION_MODULE_BUNDLED. */
export const VALIDATION_MODULE = 'controller/validation/index.ts';

export const VALIDATION_MODULE_BUNDLED = `// controller/validation in the compiled build (scripts/validators.mjs): validators
// generated at build time, each loaded at its first use.
import { createRequire } from 'node:module';
const load = createRequire(import.meta.url);
const compiled = new Map();
export function compiledValidator(spec) {
  let validate = compiled.get(spec.name);
  if (!validate) {
    try {
      validate = load('./validators/' + spec.name + '.cjs');
    } catch (cause) {
      throw new Error('validator "' + spec.name + '" is not in dist/validators: run npm run build (its module must be in VALIDATOR_MODULES of scripts/validators.mjs)', { cause });
    }
    compiled.set(spec.name, validate);
  }
  return validate;
}
`;

const standaloneCode = standalone.default ?? standalone;

/** Every spec of the listed modules (imported from the TypeScript sources). */
export async function validatorSpecs(root) {
  const specs = [];
  for (const module of VALIDATOR_MODULES) specs.push(...(await tsImport(`${root}${module}`, import.meta.url)).VALIDATORS);
  const names = specs.map((s) => s.name);
  const twice = names.find((n, i) => names.indexOf(n) !== i);
  if (twice) throw new Error(`two validators are named "${twice}"`);
  return specs;
}

/** Writes `<outdir>/validators/<name>.cjs` for every spec; returns the names. */
export async function generateValidators(root, outdir) {
  const specs = await validatorSpecs(root);
  mkdirSync(`${outdir}/validators`, { recursive: true });
  await Promise.all(specs.map(async (spec) => {
    const ajv = new Ajv({ ...spec.options, code: { ...spec.options.code, source: true } });
    const code = standaloneCode(ajv, ajv.compile(spec.schema()));
    const out = await build({
      stdin: { contents: code, resolveDir: root, sourcefile: `${spec.name}.cjs`, loader: 'js' },
      bundle: true, format: 'cjs', platform: 'node', target: 'node20', write: false, logLevel: 'error', minify: true,
    });
    writeFileSync(`${outdir}/validators/${spec.name}.cjs`, out.outputFiles[0].text);
  }));
  return specs.map((s) => s.name);
}
