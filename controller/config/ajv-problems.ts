/**
 * Schema validation of the config object with ajv (defaults filled in place), and the
 * translation of ajv's errors into plain sentences pointing at a field.
 */
import { readFileSync } from 'node:fs';
import { packageFile } from '../../driver/package-files/index.js';
import { compiledValidator, type ErrorObject, type ValidatorSpec } from '../validation/index.js';

const CONFIG_VALIDATOR: ValidatorSpec = {
  name: 'config',
  options: { allErrors: true, useDefaults: true, verbose: true, strict: true },
  schema: () => JSON.parse(readFileSync(packageFile('controller/config/config.schema.json'), 'utf8')) as object,
};

/** The config's validator (scripts/build.mjs generates it at build time). */
export const VALIDATORS: readonly ValidatorSpec[] = [CONFIG_VALIDATOR];

/** A problem before it is given a position: a JSON pointer and a sentence. */
export interface PointedProblem {
  pointer: string;
  /** Point at the field name rather than its value (unknown fields). */
  atKey?: boolean;
  message: string;
}

/** Validate `value` in place (inserting defaults); every violation at once. */
export function schemaProblems(value: unknown): PointedProblem[] {
  const validateSchema = compiledValidator(CONFIG_VALIDATOR);
  if (validateSchema(value)) return [];
  const errors = (validateSchema.errors ?? []).filter((e) => e.keyword !== 'propertyNames' && e.keyword !== 'if');
  return errors.map(describe);
}

const show = (v: unknown): string => JSON.stringify(v);

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  const t = typeof v;
  return t === 'object' ? 'an object' : `a ${t}`;
}

const ARTICLE: Record<string, string> = { object: 'an object', array: 'an array', integer: 'an integer', string: 'a string', number: 'a number', boolean: 'true or false' };
const COMPARE: Record<string, string> = { minimum: '>=', maximum: '<=', exclusiveMinimum: '>', exclusiveMaximum: '<' };

type Describe = (e: ErrorObject, p: Record<string, unknown>) => PointedProblem;

const at = (e: ErrorObject, message: string): PointedProblem => ({ pointer: e.instancePath, message });
const got = (e: ErrorObject): string => `(got ${show(e.data)})`;

const DESCRIBE: Record<string, Describe> = {
  additionalProperties: (e, p) => {
    const known = Object.keys((e.parentSchema as { properties?: object }).properties ?? {}).filter((k) => k !== '$schema');
    return { pointer: `${e.instancePath}/${escape(String(p.additionalProperty))}`, atKey: true, message: `unknown field (known fields here: ${known.join(', ')})` };
  },
  required: (e, p) => ({ pointer: `${e.instancePath}/${escape(String(p.missingProperty))}`, message: 'is required' }),
  enum: (e, p) => at(e, `must be one of ${(p.allowedValues as unknown[]).map(show).join(', ')} ${got(e)}`),
  type: (e, p) => at(e, `must be ${ARTICLE[String(p.type)] ?? String(p.type)} (got ${typeName(e.data)})`),
  minLength: (e, p) => at(e, p.limit === 1 ? 'must not be empty' : `must be at least ${String(p.limit)} characters long`),
  uniqueItems: (e, p) => at(e, `lists the same value twice (items ${String(p.j)} and ${String(p.i)})`),
  pattern: (e, p) => patternProblem(e, p),
};

function describe(e: ErrorObject): PointedProblem {
  const p = e.params as Record<string, unknown>;
  const specific = DESCRIBE[e.keyword];
  if (specific) return specific(e, p);
  if (e.keyword in COMPARE) return at(e, `must be ${COMPARE[e.keyword]} ${String(p.limit)} ${got(e)}`);
  return at(e, e.message ?? `violates ${e.keyword}`);
}

function patternProblem(e: ErrorObject, p: Record<string, unknown>): PointedProblem {
  if (p.propertyName !== undefined) {
    return { pointer: `${e.instancePath}/${escape(String(p.propertyName))}`, atKey: true, message: `field name ${show(p.propertyName)} must match ${String(p.pattern)}` };
  }
  return { pointer: e.instancePath, message: `must match ${String(p.pattern)} (got ${show(e.data)})` };
}

function escape(token: string): string {
  return token.replace(/~/g, '~0').replace(/\//g, '~1');
}
