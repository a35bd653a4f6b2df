/**
 * Decoding a PolicyService request: UTF-8 JSON of {"type", "object"} as upstream's
 * K8sKubeArmor(Host)PolicyEvent. Produces the normalized policy object (what is
 * persisted and validated) or the reason it is Invalid.
 */
import { identityProblem, quoteName } from '../../policy/index.js';
import { RPC_KIND, type PolicyIdentity, type PolicyRpc } from './types.js';

/** The one apiVersion of KubeArmor policies: anything else would be stored yet never enforced. */
export const POLICY_API_VERSION = 'security.kubearmor.com/v1';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface PolicyEvent {
  type: EventType;
  identity: PolicyIdentity;
  /** Policy object without status and server-side metadata noise. */
  object: Record<string, unknown>;
}

const EVENT_TYPES: readonly string[] = ['ADDED', 'MODIFIED', 'DELETED'];
/** Metadata the API server sets; two copies differing only there are the same policy. */
const METADATA_NOISE = ['resourceVersion', 'uid', 'creationTimestamp', 'generation', 'managedFields', 'selfLink'];

export class PolicyEventError extends Error {}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function decodeJson(bytes: Uint8Array): unknown {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch (cause) {
    throw new PolicyEventError('request is not valid UTF-8', { cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new PolicyEventError(`request is not valid JSON: ${(cause as Error).message}`, { cause });
  }
}

function normalize(object: Record<string, unknown>, rpc: PolicyRpc): Record<string, unknown> {
  const { status: _status, ...rest } = object;
  const metadata = { ...(rest.metadata as Record<string, unknown>) };
  for (const key of METADATA_NOISE) delete metadata[key];
  if (rpc === 'hostPolicy') delete metadata.namespace; // host policies are cluster-scoped
  return { apiVersion: POLICY_API_VERSION, kind: RPC_KIND[rpc], ...rest, metadata };
}

export function parsePolicyEvent(bytes: Uint8Array, rpc: PolicyRpc): PolicyEvent {
  const event = decodeJson(bytes);
  if (!isRecord(event)) throw new PolicyEventError('request must be a JSON object {"type", "object"}');
  const type = event.type;
  if (typeof type !== 'string' || !EVENT_TYPES.includes(type)) {
    throw new PolicyEventError(`"type" must be ADDED, MODIFIED or DELETED, got ${JSON.stringify(type)}`);
  }
  const object = event.object;
  if (!isRecord(object)) throw new PolicyEventError('"object" is missing');
  if (object.apiVersion !== undefined && object.apiVersion !== POLICY_API_VERSION) {
    const got = typeof object.apiVersion === 'string' ? quoteName(object.apiVersion) : typeof object.apiVersion;
    throw new PolicyEventError(`"object.apiVersion" must be ${POLICY_API_VERSION}, got ${got}`);
  }
  return { type: type as EventType, identity: objectIdentity(object, rpc), object: normalize(object, rpc) };
}

/** The identity of a policy object sent to `rpc`; throws when it has none or the wrong kind. */
export function objectIdentity(object: Record<string, unknown>, rpc: PolicyRpc): PolicyIdentity {
  if (!isRecord(object.metadata)) throw new PolicyEventError('"object.metadata" is missing');
  const name = object.metadata.name;
  if (typeof name !== 'string' || name === '') throw new PolicyEventError('"object.metadata.name" is empty');
  const kind = object.kind ?? RPC_KIND[rpc];
  if (kind !== RPC_KIND[rpc]) {
    throw new PolicyEventError(`kind ${JSON.stringify(kind)} cannot be sent to ${rpc}, which takes ${RPC_KIND[rpc]}`);
  }
  const ns = object.metadata.namespace;
  const namespace = rpc !== 'hostPolicy' && typeof ns === 'string' && ns !== '' ? ns : undefined;
  const bad = identityProblem(name, namespace);
  if (bad) throw new PolicyEventError(bad.message);
  return namespace ? { kind: RPC_KIND[rpc], namespace, name } : { kind: RPC_KIND[rpc], name };
}

/** JSON with sorted object keys: equal strings mean equal policies. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    isRecord(v) ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, v[k]])) : v);
}

export function originOf(identity: PolicyIdentity): string {
  const ns = identity.namespace ? `${identity.namespace}/` : '';
  return `grpc:${identity.kind}/${ns}${identity.name}`;
}
