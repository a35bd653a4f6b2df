/**
 * The CRD source: KubeArmor policies from a Kubernetes cluster (list + watch with
 * @kubernetes/client-node's KubeConfig for authentication), this node's labels from its
 * Node object, and each node's outcome written back as Kubernetes Events.
 */
export { CrdSource, CRD_SOURCE, crdOrigin, httpKubeApi, reflectorSettings } from './source.js';
export type { KubeApiFactory } from './source.js';
export { HttpKubeApi, loadKubeConfig } from './client.js';
export type { KubeApi, KubeApiOptions } from './client.js';
export { EventRecorder, REPORTING_CONTROLLER } from './events.js';
export type { EventRecord, EventSettings, EventTarget, EventWrite } from './events.js';
export { Reflector } from './reflector.js';
export type { ReflectorHandler, ReflectorSettings, ReflectorRestart } from './reflector.js';
export { NodeWatch, nodeNameOf } from './node.js';
export { KubeApiError, WatchSilentError } from './errors.js';
export { POLICY_RESOURCES, resourcePath } from './types.js';
export type { KubeObject, KubeList, WatchEvent } from './types.js';

export { crdSourceKind } from './kind.js';
