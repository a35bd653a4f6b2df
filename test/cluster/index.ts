/**
 * The test cluster: a real etcd and kube-apiserver on loopback (see cluster.ts), plus a
 * relay that makes the network between an agent and the API server fail on demand.
 */
export { startCluster } from './cluster.js';
export type { ClusterOptions, TestCluster } from './cluster.js';
export { FlakyRelay } from './proxy.js';
export { makeClusterPki, writeKubeconfig } from './pki.js';
export { freePort, kubectl, waitFor } from './util.js';
