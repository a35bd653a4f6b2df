/** Kubernetes object shapes the CRD source reads (only the fields it uses). */
import type { PolicyKind } from '../../config/index.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  labels?: Record<string, string>;
}

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface KubeList {
  metadata: { resourceVersion?: string; continue?: string };
  items: KubeObject[];
}

export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: KubeObject & { code?: number; message?: string; reason?: string };
}

/** Where a KubeArmor kind is served. */
export interface PolicyResource {
  kind: PolicyKind;
  plural: string;
  namespaced: boolean;
}

export const KUBEARMOR_GROUP = 'security.kubearmor.com';
export const KUBEARMOR_VERSION = 'v1';

export const POLICY_RESOURCES: Record<PolicyKind, PolicyResource> = {
  KubeArmorHostPolicy: { kind: 'KubeArmorHostPolicy', plural: 'kubearmorhostpolicies', namespaced: false },
  KubeArmorPolicy: { kind: 'KubeArmorPolicy', plural: 'kubearmorpolicies', namespaced: true },
  KubeArmorClusterPolicy: { kind: 'KubeArmorClusterPolicy', plural: 'kubearmorclusterpolicies', namespaced: false },
};

export function resourcePath(resource: PolicyResource): string {
  return `/apis/${KUBEARMOR_GROUP}/${KUBEARMOR_VERSION}/${resource.plural}`;
}
