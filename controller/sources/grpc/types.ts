/** Types of the gRPC policy source (what the PolicyService feeds). */
import type { Problem } from '../../store/types.js';

export type { Problem };

/** The three PolicyService RPCs, each carrying one policy kind. */
export type PolicyRpc = 'containerPolicy' | 'hostPolicy' | 'networkPolicy';

export const RPC_KIND: Record<PolicyRpc, string> = {
  containerPolicy: 'KubeArmorPolicy',
  hostPolicy: 'KubeArmorHostPolicy',
  networkPolicy: 'KubeArmorNetworkPolicy',
};

export type { PolicyIdentity } from '../../store/types.js';
import type { PolicyIdentity } from '../../store/types.js';

/**
 * The same validation as for files, injected (the lead wires the policy module's).
 * `errors` may also carry warnings (severity 'warning'); only errors reject. `digest`
 * is of the policy's meaning (equal for two encodings of the same policy), when valid.
 */
export type PolicyValidator = (text: string, location: string) => { identity?: PolicyIdentity; errors: Problem[]; digest?: string };

/** Upstream's policy.PolicyStatus values: the generated wire enum itself. */
export { PolicyStatus as PolicyOutcomeStatus } from '../../../proto/gen/policy.js';
import { PolicyStatus as PolicyOutcomeStatus } from '../../../proto/gen/policy.js';

export interface PolicyOutcome {
  status: PolicyOutcomeStatus;
  /** One line for logs and the CLI. */
  message: string;
  problems: Problem[];
  identity?: PolicyIdentity;
}

/** A policy applied over gRPC and held (and persisted) by the source. */
export interface GrpcPolicyRecord {
  origin: string;
  identity: PolicyIdentity;
  rpc: PolicyRpc;
  /** The policy JSON as reported to the store. */
  text: string;
  /**
   * What the policy means, to tell identical from modified: the validator's digest (so
   * karmor's re-encoding of a file is the same policy), else the canonical JSON.
   */
  meaning: string;
}

/** What PolicyService needs of the source: one request in, one outcome out. */
export interface PolicyIntake {
  apply(rpc: PolicyRpc, bytes: Uint8Array): Promise<PolicyOutcome>;
}
