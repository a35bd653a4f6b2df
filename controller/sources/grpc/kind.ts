/** The `grpc` source kind: policies applied through policy.PolicyService (karmor vm policy add). */
import type { SourceKindDefinition } from '../types.js';
import { GrpcPolicySource } from './source.js';

export const grpcSourceKind: SourceKindDefinition = {
  kind: 'grpc',
  enabled: (config) => config.sources.grpc.enabled,
  create: ({ config, validate, logger }) => new GrpcPolicySource({
    stateDir: config.stateDir, validate, kinds: config.sources.grpc.kinds, logger: logger.child({ component: 'grpc' }),
  }),
};
