// kawin's CRDs must accept every object upstream KubeArmor's CRDs accept: walks
// upstream's schemas (test/fixtures/upstream/kubearmor/deployments/CRD, source named in
// test/fixtures/upstream/README.md) beside kawin's and fails on any field, type, enum
// value or requirement of upstream's that kawin's does not match.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { POLICY_KINDS, type PolicyKind } from './index.js';
import { crdSchema } from './schema.js';

type Schema = Record<string, unknown>;
const UPSTREAM = new URL('../../test/fixtures/upstream/kubearmor/deployments/CRD/', import.meta.url);

function upstreamSchema(kind: PolicyKind): Schema {
  const crd = load(readFileSync(new URL(`${kind}.yaml`, UPSTREAM), 'utf8')) as Schema;
  const versions = (crd.spec as Schema).versions as Schema[];
  return ((versions.find((v) => v.name === 'v1')!.schema as Schema).openAPIV3Schema) as Schema;
}

const isSchema = (v: unknown): v is Schema => typeof v === 'object' && v !== null && !Array.isArray(v);
const types = (s: Schema): string[] => (s['x-kubernetes-int-or-string'] ? ['integer', 'string'] : typeof s.type === 'string' ? [s.type] : []);

/** Every way `theirs` accepts more than `ours`, as `path: what`. */
export function gaps(theirs: Schema, ours: Schema, path = ''): string[] {
  const out: string[] = [];
  if (ours['x-kubernetes-preserve-unknown-fields'] === true && !isSchema(ours.properties)) return out; // accepts anything
  const [t, o] = [types(theirs), types(ours)];
  if (o.length > 0 && t.some((x) => !o.includes(x) && !(x === 'integer' && o.includes('number')))) out.push(`${path}: type ${t.join('|')} upstream, ${o.join('|')} in kawin`);
  if (Array.isArray(ours.enum)) {
    const missing = Array.isArray(theirs.enum) ? theirs.enum.filter((v) => !(ours.enum as unknown[]).includes(v)) : ['(any value)'];
    if (missing.length) out.push(`${path}: enum values ${JSON.stringify(missing)} accepted upstream, not by kawin`);
  }
  const theirRequired = Array.isArray(theirs.required) ? theirs.required : [];
  for (const r of Array.isArray(ours.required) ? ours.required : []) {
    if (!theirRequired.includes(r)) out.push(`${path}.${String(r)}: required by kawin, optional upstream`);
  }
  if (isSchema(theirs.properties)) {
    const ourProps = isSchema(ours.properties) ? ours.properties : {};
    for (const [key, sub] of Object.entries(theirs.properties)) {
      const mine = ourProps[key];
      if (!isSchema(mine)) {
        if (ours['x-kubernetes-preserve-unknown-fields'] !== true) out.push(`${path}.${key}: field of upstream's missing in kawin's CRD`);
        continue;
      }
      out.push(...gaps(sub as Schema, mine, `${path}.${key}`));
    }
  }
  if (isSchema(theirs.items)) out.push(...(isSchema(ours.items) ? gaps(theirs.items, ours.items, `${path}[]`) : [`${path}[]: items of upstream's missing`]));
  if (isSchema(theirs.additionalProperties)) {
    if (isSchema(ours.additionalProperties)) out.push(...gaps(theirs.additionalProperties, ours.additionalProperties, `${path}{}`));
    else if (ours.additionalProperties !== true && !ours['x-kubernetes-preserve-unknown-fields']) out.push(`${path}{}: map values of upstream's not accepted`);
  }
  return out;
}

for (const kind of POLICY_KINDS) {
  void test(`${kind}: kawin's CRD accepts every field, type and enum value of upstream's, and requires nothing more`, () => {
    const upstream = upstreamSchema(kind);
    // Only spec is the policy; status and metadata are the API server's.
    const theirs = (upstream.properties as Schema).spec as Schema;
    const ours = (crdSchema(kind).properties as Schema).spec as Schema;
    assert.deepEqual(gaps(theirs, ours, 'spec'), []);
  });
}

void test('the walk finds a missing field, a narrower enum and a stricter requirement', () => {
  const theirs = { type: 'object', required: ['a'], properties: { a: { type: 'string', enum: ['X', 'Y'] }, b: { type: 'array', items: { type: 'object', properties: { c: { type: 'string' } } } } } };
  const ours = { type: 'object', required: ['a', 'b'], properties: { a: { type: 'string', enum: ['X'] }, b: { type: 'array', items: { type: 'object', properties: {} } } } };
  assert.deepEqual(gaps(theirs, ours, 'spec'), [
    'spec.b: required by kawin, optional upstream',
    'spec.a: enum values ["Y"] accepted upstream, not by kawin',
    'spec.b[].c: field of upstream\'s missing in kawin\'s CRD',
  ]);
});
