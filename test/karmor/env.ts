/** The environment karmor runs in for tests and benches. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** karmor reads a kubeconfig even for --gRPC: one that names no reachable cluster, written in `dir` (also HOME). */
export function karmorEnv(dir: string): NodeJS.ProcessEnv {
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, `apiVersion: v1
kind: Config
clusters: [{name: none, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: none, context: {cluster: none, user: none}}]
users: [{name: none, user: {}}]
current-context: none
`);
  return { ...process.env, KUBECONFIG: kubeconfig, HOME: dir };
}
