// The CRD source when the API server or the network fails, against a real kube-apiserver:
// the agent reaches it through a relay (test/cluster/proxy.ts) that can go silent
// (half-open) or refuse connections; the API server itself is stopped and restarted;
// etcd is compacted so that a watch from an old resourceVersion gets 410 Gone. The watch
// cache is off so that compaction reaches watches at once (with it on, the cache answers
// 410 only once its own window has passed). Limits are short config values, not minutes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startHarness, type AgentHarness } from '../../../test/agent-harness.js';
import { FlakyRelay, startCluster, waitFor, type TestCluster } from '../../../test/cluster/index.js';
import { applyObject, createNode, crdSourceConfig, hostPolicyObject } from '../../../test/cluster/agent.js';

let cluster: TestCluster;
let relay: FlakyRelay;

async function startAgent(t: Parameters<typeof startHarness>[0]): Promise<AgentHarness> {
  await cluster.kubectl(['delete', 'kubearmorhostpolicies', '--all']);
  const kubeconfig = cluster.kubeconfigFor('via-relay', cluster.pki.adminToken, `https://127.0.0.1:${relay.port}`);
  const h = await startHarness(t);
  await h.start({
    sources: {
      files: { enabled: false }, grpc: { enabled: false },
      crd: crdSourceConfig(kubeconfig, { watchSilenceSeconds: 1.5, requestTimeoutSeconds: 2, backoff: { initialMs: 100, maxMs: 400 } }),
    },
  });
  await waitFor(() => h.runtime!.view.reconcile.firstApplyDone, 'the first apply');
  return h;
}

async function metric(h: AgentHarness, name: string, labels: Record<string, string>): Promise<number> {
  const m = await h.runtime!.agent.metrics.registry.getSingleMetric(name)!.get();
  return m.values.filter((v) => Object.entries(labels).every(([k, val]) => v.labels[k] === val)).reduce((a, v) => a + v.value, 0);
}

/** Waits until the source has failed `rounds` more watch attempts (restarts by error) than now. */
async function failedRounds(h: AgentHarness, rounds: number): Promise<void> {
  const errors = (): Promise<number> => metric(h, 'kawin_crd_watch_restarts_total', { reason: 'error' });
  const from = await errors();
  await waitFor(async () => await errors() >= from + rounds, `${rounds} failed watch attempts`, 20_000);
}

const rule = (name: string): string => `C:\\Windows\\System32\\${name}.exe`;
const has = (h: AgentHarness, names: string[]) => (rules: { target: { path: string } }[]): boolean =>
  JSON.stringify(h.paths(rules as never)) === JSON.stringify(names.map((n) => `\\Device\\HarddiskVolume3\\Windows\\System32\\${n}.exe`).sort());

void describe('CRD source resilience against a real kube-apiserver', { concurrency: false }, () => {
  before(async () => {
    cluster = await startCluster({ watchCache: false });
    await createNode(cluster, 'test-node', { 'kubernetes.io/os': 'windows' });
    relay = new FlakyRelay({ host: '127.0.0.1', port: cluster.port });
    await relay.start();
  });
  after(async () => {
    await relay?.stop();
    await cluster?.stop();
  });

  // Custom resources are always served from the API server's watch cache (which answers an
  // old version from its history), so the 410 is provoked on the Node watch, which the
  // same reflector code runs and which --watch-cache=false sends straight to etcd.
  void test('a half-open connection is closed by the watchdog; a re-watch past an etcd compaction gets 410 and re-lists', async (t) => {
    const h = await startAgent(t);
    await applyObject(cluster, hostPolicyObject('a', rule('a')));
    await applyObject(cluster, hostPolicyObject('b', rule('b')));
    await applyObject(cluster, hostPolicyObject('web', rule('web'), { tier: 'web' }));
    await h.until(has(h, ['a', 'b']), 'a and b');
    relay.freeze();
    await cluster.kubectl(['delete', 'kubearmorhostpolicy', 'a']);
    await applyObject(cluster, hostPolicyObject('c', rule('c')));
    await cluster.kubectl(['label', 'node', 'test-node', 'tier=web']);
    await cluster.compactEtcd();
    // The frozen watches see nothing: the watchdog ends them (their buffered events die with them)...
    await waitFor(async () => await metric(h, 'kawin_crd_watch_restarts_total', { resource: 'nodes', reason: 'silent' }) >= 1 &&
      await metric(h, 'kawin_crd_watch_restarts_total', { resource: 'kubearmorhostpolicies', reason: 'silent' }) >= 1, 'the watchdog', 10_000);
    relay.restore();
    // ...and the re-watches from their last versions resume: the Node's, compacted away, is answered 410 and re-lists.
    await h.until(has(h, ['b', 'c', 'web']), 'b, c and the tier=web policy (changes made while the connection was silent)', 20_000);
    const log = h.logger.records.filter((r) => r.msg === 'watch restarted').map((r) => JSON.stringify(r)).join('\n');
    assert.ok(await metric(h, 'kawin_crd_watch_restarts_total', { resource: 'nodes', reason: 'gone' }) >= 1, `a 410 led to a re-list; restarts:\n${log}`);
    await cluster.kubectl(['label', 'node', 'test-node', 'tier-']);
  });

  void test('the API server unreachable: nothing is pruned; changes made meanwhile are caught up after', async (t) => {
    const h = await startAgent(t);
    await applyObject(cluster, hostPolicyObject('keep', rule('keep')));
    await applyObject(cluster, hostPolicyObject('gone', rule('gone')));
    await h.until(has(h, ['gone', 'keep']), 'both rules');
    relay.refuse();
    await cluster.kubectl(['delete', 'kubearmorhostpolicy', 'gone']);
    await applyObject(cluster, hostPolicyObject('new', rule('new')));
    await waitFor(() => h.runtime!.view.desired.sourceStatus().some((s) => s.name === 'crd' && s.error !== undefined), 'the source reported failed', 10_000);
    // Several failed attempts without the API server: the table is untouched.
    await failedRounds(h, 3);
    assert.ok(has(h, ['gone', 'keep'])((await h.probe.listRules()).rules), 'nothing pruned while unreachable');
    const ready = h.runtime!.agent.readiness();
    assert.equal(ready.ok, false, 'readiness says the source cannot see the API server');
    relay.restore();
    await h.until(has(h, ['keep', 'new']), 'caught up after the outage', 20_000);
    await waitFor(() => h.runtime!.view.desired.sourceStatus().some((s) => s.name === 'crd' && s.error === undefined), 'the source error cleared');
  });

  void test('the API server stopped and started again: rules stay, then changes flow again', async (t) => {
    const h = await startAgent(t);
    await applyObject(cluster, hostPolicyObject('stay', rule('stay')));
    await h.until(has(h, ['stay']), 'the rule');
    await cluster.stopApiServer();
    await waitFor(() => h.runtime!.view.desired.sourceStatus().some((s) => s.name === 'crd' && s.error !== undefined), 'the source reported failed', 10_000);
    await failedRounds(h, 3);
    assert.ok(has(h, ['stay'])((await h.probe.listRules()).rules), 'nothing pruned while the API server is down');
    await cluster.startApiServer();
    await applyObject(cluster, hostPolicyObject('after', rule('after')));
    await h.until(has(h, ['after', 'stay']), 'a policy created after the restart', 30_000);
  });
});
