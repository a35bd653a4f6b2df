/**
 * policy.ProbeService (`karmor probe` calls getProbeData): which policies this node
 * enforces. As upstream, `hostMap` is keyed by the node name and lists the host
 * policies in force on it, each with its data as JSON bytes. kawin enforces no
 * container policies (there are no containers it confines on a Windows node), so
 * `containerList` and `containerMap` stay empty, as upstream's are on a host without
 * containers; `networkMap` too (network rules are not enforced on Windows).
 */
import type { sendUnaryData, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ProbeServiceService, type ProbeResponse } from '../../proto/gen/policy.js';
import type { GrpcServiceBinding } from './binding.js';

/** A policy in force on this node, as getProbeData reports it. */
export interface ProbePolicy {
  name: string;
  /** Serialized as JSON into `policyDataList`. */
  object: unknown;
}

/** Implemented by the agent. */
export interface ProbeProvider {
  nodeName(): string;
  /** Host policies this node enforces (fully or in part), by name. */
  hostPolicies(): ProbePolicy[];
}

export function probeResponse(provider: ProbeProvider): ProbeResponse {
  const policies = provider.hostPolicies();
  const hostMap: ProbeResponse['hostMap'] = {};
  if (policies.length > 0) {
    hostMap[provider.nodeName()] = {
      policyList: policies.map((p) => p.name),
      policyDataList: policies.map((p) => ({ policy: Buffer.from(JSON.stringify(p.object)) })),
    };
  }
  return { containerList: [], containerMap: {}, hostMap, networkMap: {} };
}

export function probeServiceBinding(provider: ProbeProvider): GrpcServiceBinding {
  const implementation: UntypedServiceImplementation = {
    getProbeData: (_call: ServerUnaryCall<unknown, ProbeResponse>, callback: sendUnaryData<ProbeResponse>) => {
      callback(null, probeResponse(provider));
    },
  };
  return { name: 'policy.ProbeService', definition: ProbeServiceService, implementation, changesPolicy: false };
}
