/**
 * The policy schemas, read from kawin's CRD files (crds/*.yaml): the single source of
 * truth for structure, whatever source a policy comes from. Unknown fields are errors
 * here (as with kubectl's strict field validation) rather than silently pruned, so
 * every object schema with `properties` gets `additionalProperties: false`.
 */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { Ajv, type ValidateFunction } from 'ajv';
import type { PolicyKind } from './types.js';
import { packageFile } from '../../driver/package-files/index.js';

export const CRD_DIRECTORY = packageFile('crds/');
export const CRD_FILES: Record<PolicyKind, string> = {
  KubeArmorHostPolicy: 'kubearmorhostpolicies.yaml',
  KubeArmorPolicy: 'kubearmorpolicies.yaml',
  KubeArmorClusterPolicy: 'kubearmorclusterpolicies.yaml',
};

type SchemaNode = Record<string, unknown>;

/** The `openAPIV3Schema` of a kind's CRD, as written in the file. */
export function crdSchema(kind: PolicyKind): SchemaNode {
  const crd = load(readFileSync(new URL(CRD_FILES[kind], CRD_DIRECTORY), 'utf8')) as SchemaNode;
  const versions = (crd.spec as SchemaNode).versions as SchemaNode[];
  const v1 = versions.find((v) => v.name === 'v1');
  if (!v1) throw new Error(`${CRD_FILES[kind]}: no v1 version`);
  return (v1.schema as SchemaNode).openAPIV3Schema as SchemaNode;
}

/** Object schemas with declared properties reject undeclared ones (strict field validation). */
export function strictSchema(node: SchemaNode): SchemaNode {
  const out: SchemaNode = {};
  for (const [key, value] of Object.entries(node)) {
    if (key === 'properties') out[key] = mapValues(value as Record<string, SchemaNode>, strictSchema);
    else if ((key === 'items' || key === 'additionalProperties') && isObject(value)) out[key] = strictSchema(value);
    else out[key] = value;
  }
  if (node.properties && node['x-kubernetes-preserve-unknown-fields'] !== true && !('additionalProperties' in node)) {
    out.additionalProperties = false;
  }
  return out;
}

const isObject = (v: unknown): v is SchemaNode => typeof v === 'object' && v !== null && !Array.isArray(v);
const mapValues = <T, U>(o: Record<string, T>, f: (v: T) => U): Record<string, U> =>
  Object.fromEntries(Object.entries(o).map(([k, v]) => [k, f(v)]));

let ajv: Ajv | undefined;
let quickAjv: Ajv | undefined;
const validators = new Map<PolicyKind, ValidateFunction>();
const quickValidators = new Map<PolicyKind, ValidateFunction>();
const schemas = new Map<PolicyKind, SchemaNode>();

const schemaOf = (kind: PolicyKind): SchemaNode => schemas.get(kind) ?? schemas.set(kind, strictSchema(crdSchema(kind))).get(kind)!;

/** The compiled validator of a kind (compiled once per process), reporting every error with its schema. */
export function validatorFor(kind: PolicyKind): ValidateFunction {
  let validate = validators.get(kind);
  if (!validate) {
    // verbose: errors carry their schema, used to name allowed fields and patterns.
    ajv ??= new Ajv({ allErrors: true, strict: false, verbose: true });
    validate = ajv.compile(schemaOf(kind));
    validators.set(kind, validate);
  }
  return validate;
}

/**
 * The same schema, compiled to stop at the first error and keep no data in errors:
 * about twice as fast on valid policies, the common case. Its errors are not for
 * people: a policy it refuses goes through validatorFor for the full report.
 */
export function quickValidatorFor(kind: PolicyKind): ValidateFunction {
  let validate = quickValidators.get(kind);
  if (!validate) {
    quickAjv ??= new Ajv({ allErrors: false, strict: false, verbose: false });
    validate = quickAjv.compile(schemaOf(kind));
    quickValidators.set(kind, validate);
  }
  return validate;
}
