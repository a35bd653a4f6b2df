/**
 * The gRPC policy source: policies applied with policy.PolicyService (karmor vm policy
 * add, kawin policy apply), persisted in the state directory and restored on start.
 */
export { GrpcPolicySource } from './source.js';
export type { GrpcPolicySourceOptions } from './source.js';
export { PolicyOutcomeStatus, RPC_KIND } from './types.js';
export type { GrpcPolicyRecord, PolicyIdentity, PolicyOutcome, PolicyRpc, PolicyValidator, Problem } from './types.js';
export { originOf, canonicalJson } from './event.js';
export { policyServiceBinding, outcomeTrailer, TRAILER_MESSAGE, TRAILER_PROBLEMS } from './service.js';
