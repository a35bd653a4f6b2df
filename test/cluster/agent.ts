/**
 * Helpers for tests that run an agent (on the emulator, test/agent-harness.ts) against
 * the test cluster: the agent's config with the CRD source on, policy objects applied
 * with kubectl, and the Events the agent wrote.
 */
import type { TestCluster } from './cluster.js';

/** Short limits so failure paths take seconds, not minutes (all are config fields). */
export function crdSourceConfig(kubeconfig: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    enabled: true, kubeconfig, node: { name: 'test-node' },
    requestTimeoutSeconds: 5, watchSilenceSeconds: 30, relistIntervalSeconds: 3600,
    backoff: { initialMs: 50, maxMs: 500 },
    events: { seriesIntervalSeconds: 0.2 },
    ...extra,
  };
}

export function hostPolicyObject(name: string, path: string, labels: Record<string, string> = { 'kubernetes.io/os': 'windows' }): string {
  return JSON.stringify({
    apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorHostPolicy', metadata: { name },
    spec: { nodeSelector: { matchLabels: labels }, process: { matchPaths: [{ path }] }, action: 'Block' },
  });
}

export async function applyObject(cluster: TestCluster, json: string): Promise<void> {
  await cluster.kubectl(['apply', '-f', '-'], json);
}

export async function createNode(cluster: TestCluster, name: string, labels: Record<string, string>): Promise<void> {
  await applyObject(cluster, JSON.stringify({ apiVersion: 'v1', kind: 'Node', metadata: { name, labels } }));
}

export interface SeenEvent {
  reason: string;
  type: string;
  note: string;
  action: string;
  regarding: { kind: string; name: string; namespace?: string; uid?: string };
  reportingController: string;
  reportingInstance: string;
  series?: { count: number };
  metadata: { name: string; namespace: string };
}

/** events.k8s.io/v1 Events about `name`, oldest first. */
export async function eventsAbout(cluster: TestCluster, name: string, namespace = 'default'): Promise<SeenEvent[]> {
  const list = (await cluster.get(`/apis/events.k8s.io/v1/namespaces/${namespace}/events`)) as { items: (SeenEvent & { eventTime: string })[] };
  return list.items.filter((e) => e.regarding.name === name).sort((a, b) => a.eventTime.localeCompare(b.eventTime));
}
