/**
 * `npm run cluster`: the test cluster for a person — etcd and a real kube-apiserver on
 * loopback with kawin's CRDs installed, until Ctrl-C. Prints the admin kubeconfig and a
 * ready-made agent config for the CRD source.
 *
 *   npm run cluster [-- --dir <dir>] [-- --audit]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { startCluster } from './cluster.js';
import { createNode } from './agent.js';

const args = process.argv.slice(2);
const dirArg = args.indexOf('--dir');
const dir = dirArg >= 0 ? resolve(args[dirArg + 1]!) : undefined;
if (dir) mkdirSync(dir, { recursive: true });
const started = Date.now();
const cluster = await startCluster({ dir, keep: Boolean(dir), audit: args.includes('--audit') });
const node = process.env.NODE_NAME ?? 'kawin-dev-node';
await createNode(cluster, node, { 'kubernetes.io/os': 'windows', 'kubernetes.io/hostname': node });
const agentConfig = join(cluster.dir, 'agent-config.json');
writeFileSync(agentConfig, JSON.stringify({
  hostName: node, driver: { kind: 'emulator', emulator: { flavor: 'windows', drives: { 'C:': '\\Device\\HarddiskVolume3' } } },
  stateDir: join(cluster.dir, 'agent-state'), grpc: { address: '127.0.0.1:0' }, metrics: { enabled: true, address: '127.0.0.1:9727' },
  sources: { grpc: { enabled: false }, crd: { enabled: true, kubeconfig: cluster.kubeconfig } },
}, null, 2));
console.log(`kube-apiserver ${cluster.server} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (etcd ${cluster.etcdUrl})
  export KUBECONFIG=${cluster.kubeconfig}
  kubectl apply -f examples/policies/block-certutil.yaml
  node bin/kawin.js agent --config ${agentConfig}   # an agent on the emulator, Node ${node}
Ctrl-C stops the cluster${dir ? '' : ' and removes its directory'}.`);
const stop = async (): Promise<void> => {
  await cluster.stop();
  process.exit(0);
};
process.once('SIGINT', () => void stop());
process.once('SIGTERM', () => void stop());
