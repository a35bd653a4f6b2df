// The CRD source end to end: a real kube-apiserver (test/cluster), kubectl as the user,
// an agent on the emulator, assertions on the driver's table read back and on the Events
// the API server holds. One cluster serves the whole file.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { hostPolicy, startHarness, type AgentHarness } from '../../../test/agent-harness.js';
import { startCluster, waitFor, type TestCluster } from '../../../test/cluster/index.js';
import { applyObject, createNode, crdSourceConfig, eventsAbout, hostPolicyObject } from '../../../test/cluster/agent.js';

const CMD = 'C:\\Windows\\System32\\cmd.exe';
const CERTUTIL = 'C:\\Windows\\System32\\certutil.exe';
const VOLUME = '\\Device\\HarddiskVolume3';

let cluster: TestCluster;

async function startAgent(t: Parameters<typeof startHarness>[0], sources: Record<string, unknown> = {}, files: Record<string, string> = {}): Promise<AgentHarness> {
  await cluster.kubectl(['delete', 'kubearmorhostpolicies,kubearmorpolicies,kubearmorclusterpolicies', '--all', '--all-namespaces']);
  const h = await startHarness(t);
  for (const [name, text] of Object.entries(files)) h.writePolicy(name, text);
  await h.start({
    sources: { files: { enabled: true, paths: [h.policyDir], debounceMs: 20 }, grpc: { enabled: false }, crd: crdSourceConfig(cluster.kubeconfig), ...sources },
  });
  await waitFor(() => h.runtime!.view.reconcile.firstApplyDone, 'the first apply');
  return h;
}

async function remove(kind: string, name: string): Promise<void> {
  await cluster.kubectl(['delete', kind, name, '--ignore-not-found']);
}

void describe('CRD source against a real kube-apiserver', { concurrency: false }, () => {
  before(async () => {
    cluster = await startCluster();
    await createNode(cluster, 'test-node', { 'kubernetes.io/os': 'windows', 'kubernetes.io/hostname': 'test-node' });
  });
  after(async () => cluster?.stop());

  void test('kubectl create, update and delete of a host policy: the table follows; each outcome is an Event', async (t) => {
    const h = await startAgent(t);
    await applyObject(cluster, hostPolicyObject('block-cmd', CMD));
    await h.until((r) => r.length === 1 && r[0]!.target.path === `${VOLUME}\\Windows\\System32\\cmd.exe`, 'the cmd.exe rule');
    await applyObject(cluster, hostPolicyObject('block-cmd', CERTUTIL));
    await h.until((r) => r.length === 1 && r[0]!.target.path.endsWith('certutil.exe'), 'the certutil.exe rule');
    await waitFor(async () => (await eventsAbout(cluster, 'block-cmd')).filter((e) => e.reason === 'PolicyApplied').length === 2, 'two PolicyApplied Events');
    await remove('kubearmorhostpolicy', 'block-cmd');
    await h.until((r) => r.length === 0, 'an empty table');
    await waitFor(async () => (await eventsAbout(cluster, 'block-cmd')).some((e) => e.reason === 'PolicyRemoved'), 'a PolicyRemoved Event');
    const events = await eventsAbout(cluster, 'block-cmd');
    assert.deepEqual(events.map((e) => e.reason), ['PolicyApplied', 'PolicyApplied', 'PolicyRemoved']);
    for (const e of events) {
      assert.equal(e.reportingController, 'kawin.io/agent');
      assert.equal(e.reportingInstance, 'test-node');
      assert.equal(e.regarding.kind, 'KubeArmorHostPolicy');
    }
    assert.match(events[0]!.note, /applied on node test-node \(generation 1\): 1 rule/);
    assert.match(events[1]!.note, /applied on node test-node \(generation 2\): 1 rule/);
  });

  void test('a Node label change re-selects host policies', async (t) => {
    const h = await startAgent(t);
    await applyObject(cluster, hostPolicyObject('tier-web', CMD, { tier: 'web' }));
    await h.runtime!.agent.whenIdle();
    assert.equal((await h.probe.listRules()).rules.length, 0, 'the node has no tier label yet');
    await cluster.kubectl(['label', 'node', 'test-node', 'tier=web']);
    await h.until((r) => r.length === 1, 'the tier=web policy selected');
    await cluster.kubectl(['label', 'node', 'test-node', 'tier-']);
    await h.until((r) => r.length === 0, 'the policy no longer selected');
    await waitFor(async () => (await eventsAbout(cluster, 'tier-web')).some((e) => e.reason === 'PolicyRemoved' && /no longer selects/.test(e.note)), 'PolicyRemoved');
    await remove('kubearmorhostpolicy', 'tier-web');
  });

  void test('an object the CRD schema accepts but kawin rejects: a Warning Event with the error, the previous version stays', async (t) => {
    const h = await startAgent(t);
    await applyObject(cluster, hostPolicyObject('dotdot', CMD));
    await h.until((r) => r.length === 1, 'the first version');
    await applyObject(cluster, hostPolicyObject('dotdot', 'C:\\Windows\\..\\evil.exe'));
    await waitFor(async () => (await eventsAbout(cluster, 'dotdot')).some((e) => e.reason === 'PolicyInvalid'), 'a PolicyInvalid Event');
    const invalid = (await eventsAbout(cluster, 'dotdot')).find((e) => e.reason === 'PolicyInvalid')!;
    assert.equal(invalid.type, 'Warning');
    assert.match(invalid.note, /contains a "\.\." segment/);
    assert.match(invalid.note, /previous version stays in force/);
    assert.deepEqual(h.paths((await h.probe.listRules()).rules), [`${VOLUME}\\Windows\\System32\\cmd.exe`]);
    const status = h.runtime!.view.desired.get('KubeArmorHostPolicy/dotdot');
    assert.equal(status?.rejected.length, 1);
    await remove('kubearmorhostpolicy', 'dotdot');
    await h.until((r) => r.length === 0, 'an empty table');
  });

  void test('KubeArmorPolicy and KubeArmorClusterPolicy are read and reported not enforced, with the reason', async (t) => {
    const h = await startAgent(t);
    await applyObject(cluster, JSON.stringify({
      apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorPolicy', metadata: { name: 'web-proc', namespace: 'default' },
      spec: { selector: { matchLabels: { app: 'web' } }, process: { matchPaths: [{ path: '/bin/sh' }] }, action: 'Block' },
    }));
    await waitFor(async () => (await eventsAbout(cluster, 'web-proc')).some((e) => e.reason === 'PolicyNotEnforced'), 'PolicyNotEnforced');
    const entry = h.runtime!.view.desired.get('KubeArmorPolicy/default/web-proc');
    assert.equal(entry?.source, 'crd');
    assert.equal(entry?.origin, 'crd:KubeArmorPolicy/default/web-proc');
    assert.equal((await h.probe.listRules()).rules.length, 0);
    await remove('kubearmorpolicy', 'web-proc');
  });

  // Shapes from upstream KubeArmor's documentation (policy specification examples for
  // KubeArmorPolicy and KubeArmorHostPolicy), as users write them for upstream's CRDs,
  // including empty (null) fields that the API server prunes before validating.
  void test('objects written for upstream KubeArmor CRDs are accepted by kawin CRDs', async () => {
    const upstream = `apiVersion: security.kubearmor.com/v1
kind: KubeArmorPolicy
metadata:
  name: ksp-group-1-proc-path-block
  namespace: multiubuntu
spec:
  severity: 5
  message: "block /bin/sleep"
  tags: ["MITRE", "T1059"]
  selector:
    matchLabels:
      group: group-1
    matchExpressions:
  process:
    matchPaths:
    - path: /bin/sleep
    matchDirectories:
    - dir: /usr/bin/
      recursive: true
      fromSource:
      - path: /bin/bash
  file:
    matchPatterns:
    - pattern: /etc/*shadow*
      readOnly: true
  network:
    matchProtocols:
    - protocol: icmp
  capabilities:
    matchCapabilities:
    - capability: net_raw
  action: Block
---
apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: hsp-kubearmor-dev-proc-path-block
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/hostname: kubearmor-dev
  process:
    matchPaths:
    - path: /usr/bin/diff
      fromSource:
  action: Block
---
apiVersion: security.kubearmor.com/v1
kind: KubeArmorClusterPolicy
metadata:
  name: csp-in-operator-block-process
spec:
  severity: 8
  selector:
    matchExpressions:
      - key: namespace
        operator: In
        values:
          - nginx1
  process:
    matchPaths:
      - path: /usr/bin/apt
  action: Block
`;
    await cluster.kubectl(['create', 'namespace', 'multiubuntu']).catch(() => '');
    const out = await cluster.kubectl(['apply', '--dry-run=server', '-f', '-'], upstream);
    assert.match(out, /ksp-group-1-proc-path-block.*created/);
    assert.match(out, /hsp-kubearmor-dev-proc-path-block.*created/);
    assert.match(out, /csp-in-operator-block-process.*created/);
  });

  void test('the same policy from a file and a CRD: the CRD wins by default (sources.precedence), the conflict shows', async (t) => {
    const h = await startAgent(t);
    h.writePolicy('dup.yaml', hostPolicy('dup', `  process:\n    matchPaths:\n      - path: ${CERTUTIL}\n  action: Block\n`));
    await h.until((r) => r.length === 1 && r[0]!.target.path.endsWith('certutil.exe'), 'the file version');
    await applyObject(cluster, hostPolicyObject('dup', CMD));
    await h.until((r) => r.length === 1 && r[0]!.target.path.endsWith('cmd.exe'), 'the CRD version');
    const winner = h.runtime!.view.desired.get('KubeArmorHostPolicy/dup')!;
    assert.equal(winner.source, 'crd');
    assert.deepEqual(h.runtime!.view.desired.contenders('KubeArmorHostPolicy/dup'), [`files:${h.policyDir}/dup.yaml`]);
    await remove('kubearmorhostpolicy', 'dup');
    await h.until((r) => r.length === 1 && r[0]!.target.path.endsWith('certutil.exe'), 'the file version again');
  });

  void test('with files first in sources.precedence the file wins and the CRD object gets a not-enforced Event', async (t) => {
    const h = await startAgent(t, { precedence: ['files', 'crd', 'grpc'] }, {
      'dup2.yaml': hostPolicy('dup2', `  process:\n    matchPaths:\n      - path: ${CERTUTIL}\n  action: Block\n`),
    });
    await applyObject(cluster, hostPolicyObject('dup2', CMD));
    await waitFor(async () => (await eventsAbout(cluster, 'dup2')).some((e) => e.reason === 'PolicyNotEnforced'), 'PolicyNotEnforced on the CRD object');
    const note = (await eventsAbout(cluster, 'dup2')).find((e) => e.reason === 'PolicyNotEnforced')!.note;
    assert.match(note, /overridden by files .*dup2\.yaml/);
    assert.deepEqual(h.paths((await h.probe.listRules()).rules), [`${VOLUME}\\Windows\\System32\\certutil.exe`]);
    await remove('kubearmorhostpolicy', 'dup2');
  });
});
