// deploy/ against a real kube-apiserver with RBAC: the rendered base is created, an agent
// authenticated with the deployed ServiceAccount's token converges and writes Events,
// and what lies outside its ClusterRole is refused by the API server itself.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseConfig } from '../../controller/config/index.js';
import { startHarness } from '../agent-harness.js';
import { applyObject, createNode, crdSourceConfig, eventsAbout, hostPolicyObject } from './agent.js';
import { kubectl, startCluster, waitFor, type TestCluster } from './index.js';

const REPO = join(new URL('.', import.meta.url).pathname, '..', '..');
let cluster: TestCluster;
let saKubeconfig: string;

function render(dir: string): string {
  return execFileSync('kubectl', ['kustomize', dir], { cwd: REPO, encoding: 'utf8' });
}

void describe('deploy/ on a real kube-apiserver', { concurrency: false }, () => {
  before(async () => {
    cluster = await startCluster();
    await cluster.kubectl(['apply', '--server-side', '-f', '-'], render('deploy'));
    const token = (await cluster.kubectl(['create', 'token', 'kawin', '-n', 'kawin-system', '--duration=1h'])).trim();
    saKubeconfig = cluster.kubeconfigFor('kawin-sa', token);
    await createNode(cluster, 'test-node', { 'kubernetes.io/os': 'windows' });
  });
  after(async () => cluster?.stop());

  void test('the rendered base is created: a Windows HostProcess DaemonSet as SYSTEM with probes, metrics and its ConfigMap', async () => {
    const ds = JSON.parse(await cluster.kubectl(['get', 'daemonset', 'kawin', '-n', 'kawin-system', '-o', 'json'])) as {
      spec: { template: { metadata: { annotations: Record<string, string> }; spec: Record<string, any> } }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    const pod = ds.spec.template.spec;
    assert.deepEqual(pod.nodeSelector, { 'kubernetes.io/os': 'windows' });
    assert.equal(pod.securityContext.windowsOptions.hostProcess, true);
    assert.equal(pod.securityContext.windowsOptions.runAsUserName, 'NT AUTHORITY\\SYSTEM');
    assert.equal(pod.hostNetwork, true);
    assert.equal(pod.serviceAccountName, 'kawin');
    const [c] = pod.containers;
    assert.equal(c.livenessProbe.httpGet.path, '/healthz');
    assert.equal(c.readinessProbe.httpGet.path, '/readyz');
    assert.equal(c.ports[0].containerPort, 9727);
    assert.equal(c.env.find((e: { name: string }) => e.name === 'NODE_NAME').valueFrom.fieldRef.fieldPath, 'spec.nodeName');
    assert.equal(ds.spec.template.metadata.annotations['prometheus.io/scrape'], 'true');
    const cm = JSON.parse(await cluster.kubectl(['get', 'configmap', 'kawin-config', '-n', 'kawin-system', '-o', 'json'])) as { data: Record<string, string> };
    const config = parseConfig(cm.data['config.json']!, { platform: 'win32', hostName: 'node-1' });
    assert.equal(config.sources.crd.enabled, true);
    assert.equal(config.metrics.address, '0.0.0.0:9727');
    await cluster.kubectl(['get', 'service', 'kawin-metrics', '-n', 'kawin-system']);
    const dashboard = JSON.parse(readFileSync(join(REPO, 'deploy', 'grafana', 'kawin-dashboard.json'), 'utf8')) as { panels: { targets: { expr: string }[] }[] };
    assert.ok(dashboard.panels.every((p) => p.targets.every((t) => /kawin_/.test(t.expr))));
  });

  void test('the monitoring component adds a PodMonitor on the DaemonSet\'s metrics port', () => {
    const dir = join(REPO, '.cache', 'kustomize-monitoring');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'kustomization.yaml'), 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources: [../../deploy]\ncomponents: [../../deploy/monitoring]\n');
    try {
      const text = render(dir);
      assert.match(text, /kind: PodMonitor[\s\S]*port: metrics/);
      assert.match(text, /app.kubernetes.io\/name: kawin/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('an agent with the ServiceAccount token converges and writes Events', async (t) => {
    const h = await startHarness(t);
    await h.start({ sources: { files: { enabled: false }, grpc: { enabled: false }, crd: crdSourceConfig(saKubeconfig) } });
    await applyObject(cluster, hostPolicyObject('rbac-ok', 'C:\\Windows\\System32\\cmd.exe'));
    await h.until((r) => r.length === 1, 'the rule');
    await waitFor(async () => (await eventsAbout(cluster, 'rbac-ok')).some((e) => e.reason === 'PolicyApplied'), 'PolicyApplied written with the SA token');
    assert.ok(h.runtime!.agent.readiness().ok, JSON.stringify(h.runtime!.agent.readiness()));
  });

  void test('requests outside the role are refused by the API server: writing a policy, reading Secrets, writing Nodes', async () => {
    const refused = async (args: string[], input?: string): Promise<void> => {
      await assert.rejects(kubectl(saKubeconfig, args, input), /forbidden/i, `kubectl ${args.join(' ')} must be refused`);
    };
    await refused(['apply', '-f', '-'], hostPolicyObject('sneaky', 'C:\\x.exe'));
    await refused(['delete', 'kubearmorhostpolicy', 'rbac-ok']);
    await refused(['get', 'secrets', '-n', 'kawin-system']);
    await refused(['get', 'secrets', '--all-namespaces']);
    await refused(['label', 'node', 'test-node', 'pwned=yes']);
    await refused(['get', 'pods', '-n', 'kawin-system']);
    // And what it needs is allowed.
    assert.match(await kubectl(saKubeconfig, ['get', 'kubearmorhostpolicies', '-o', 'name']), /rbac-ok/);
  });
});
