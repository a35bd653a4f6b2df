/**
 * The policy schemas, read from kawin's CRD files (crds/*.yaml): the single source of
 * truth for structure, whatever source a policy comes from. Unknown fields are errors
 * here (as with kubectl's strict field validation) rather than silently pruned, so
 * every object schema with `properties` gets `additionalProperties: false`.
 */
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import type { PolicyKind } from './types.js';
import { packageFile } from '../../driver/package-files/index.js';
import { compiledValidator, type ValidateFunction, type ValidatorSpec } from '../validation/index.js';

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

const KINDS = Object.keys(CRD_FILES) as PolicyKind[];
const schemas = new Map<PolicyKind, SchemaNode>();
const schemaOf = (kind: PolicyKind) => (): object => schemas.get(kind) ?? schemas.set(kind, strictSchema(crdSchema(kind))).get(kind)!;

// verbose: errors carry their schema, used to name allowed fields and patterns.
const FULL = new Map(KINDS.map((kind) => [kind, {
  name: `policy-${kind}`, options: { allErrors: true, strict: false, verbose: true }, schema: schemaOf(kind),
} satisfies ValidatorSpec]));
const QUICK = new Map(KINDS.map((kind) => [kind, {
  name: `policy-${kind}-quick`, options: { allErrors: false, strict: false, verbose: false }, schema: schemaOf(kind),
} satisfies ValidatorSpec]));

/** Every policy validator (scripts/build.mjs generates each one at build time). */
export const VALIDATORS: readonly ValidatorSpec[] = [...FULL.values(), ...QUICK.values()];

/** The validator of a kind (compiled once per process), reporting every error with its schema. */
export function validatorFor(kind: PolicyKind): ValidateFunction {
  return compiledValidator(FULL.get(kind)!);
}

/**
 * The same schema, compiled to stop at the first error and keep no data in errors:
 * about twice as fast on valid policies, the common case. Its errors are not for
 * people: a policy it refuses goes through validatorFor for the full report.
 */
export function quickValidatorFor(kind: PolicyKind): ValidateFunction {
  return compiledValidator(QUICK.get(kind)!);
}
