/**
 * StateAgent on a running agent (emulator): the node object in upstream's shape, and a
 * policy lifecycle that coalescing must not swallow.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { StateAgentClient, type StateEvent, type StateEvents } from '../../proto/gen/state_agent.js';
import { PolicyServiceClient, PolicyStatus } from '../../proto/gen/policy.js';
import { startHarness } from '../../test/agent-harness.js';
import { machineId } from '../node/index.js';
import { FakeClock } from '../clock/index.js';
import { STATE_PUBLISH_DELAY_MS } from './state-events.js';

const UPSTREAM_NODE_FIELDS = [
  'clusterName', 'nodeName', 'nodeIP', 'nodeID', 'annotations', 'labels', 'identities', 'architecture', 'operatingSystem',
  'osImage', 'kernelVersion', 'kubeletVersion', 'containerRuntimeVersion', 'last_updated_at', 'policyEnabled',
  'processVisibilityEnabled', 'fileVisibilityEnabled', 'networkVisibilityEnabled', 'capabilitiesVisibilityEnabled',
];

const json = (e: StateEvent): Record<string, unknown> => JSON.parse(Buffer.from(e.Object).toString()) as Record<string, unknown>;

async function startAgent(t: Parameters<typeof startHarness>[0], clock?: FakeClock) {
  const h = await startHarness(t);
  const runtime = await h.start({ sources: { files: { enabled: true, paths: [h.policyDir], debounceMs: 20 }, grpc: { enabled: true } } }, clock);
  const address = runtime.grpcAddress!;
  const state = new StateAgentClient(address, credentials.createInsecure());
  const policies = new PolicyServiceClient(address, credentials.createInsecure());
  t.after(() => { state.close(); policies.close(); });
  return { h, state, policies, agent: runtime.agent };
}

void test('GetState: the node object has upstream\'s fields, with this machine\'s values', async (t) => {
  const { h, state } = await startAgent(t);
  const got = await new Promise<StateEvents>((resolve, reject) => {
    const s = state.getState({});
    s.on('data', resolve);
    s.on('error', reject);
  });
  const nodeEvent = got.StateEvents.find((e) => e.Kind === 'node')!;
  assert.equal(nodeEvent.Name, 'test-node');
  const node = json(nodeEvent);
  assert.deepEqual(Object.keys(node).sort(), [...UPSTREAM_NODE_FIELDS].sort());
  assert.equal(node.nodeName, 'test-node');
  assert.equal(node.clusterName, h.config.clusterName);
  assert.equal(node.nodeID, machineId('test-node'), 'the machine id, as upstream (MachineGuid on Windows)');
  assert.deepEqual(node.labels, h.config.nodeLabels);
  assert.deepEqual(node.identities, Object.entries(h.config.nodeLabels).map(([k, v]) => `${k}=${v}`).sort());
  assert.equal(node.operatingSystem, 'linux', 'the emulator runs on Linux: GOOS names, as upstream');
  assert.match(String(node.architecture), /^(amd64|arm64|386|arm)$/);
  assert.match(String(node.last_updated_at), /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \+0000 UTC$/, 'boot time in Go\'s time.String() form');
  assert.equal(node.policyEnabled, 1);
  assert.equal(node.kubeletVersion, '');
});

function send(client: PolicyServiceClient, type: string, action: string): Promise<PolicyStatus> {
  const object = {
    apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorHostPolicy', metadata: { name: 'brief' },
    spec: { nodeSelector: { matchLabels: { 'kubernetes.io/os': 'windows' } }, file: { matchPaths: [{ path: 'C:\\brief.txt' }] }, action },
  };
  const policy = Buffer.from(JSON.stringify({ type, object }));
  return new Promise((resolve, reject) => client.hostPolicy({ policy }, (e, r) => (e ? reject(e) : resolve(r.status))));
}

function watch(state: StateAgentClient): { events: StateEvent[]; registered: Promise<void>; until(n: (e: StateEvent[]) => boolean): Promise<void>; close(): void } {
  const events: StateEvent[] = [];
  const stream: ClientReadableStream<StateEvent> = state.watchState({});
  stream.on('data', (e: StateEvent) => events.push(e));
  stream.on('error', () => undefined);
  // The server sends its headers once the watcher is subscribed.
  const registered = new Promise<void>((resolve) => stream.once('metadata', () => resolve()));
  return {
    events,
    registered,
    until: async (done) => {
      const deadline = Date.now() + 5000;
      while (!done(events)) {
        if (Date.now() > deadline) throw new Error(`state events so far: ${JSON.stringify(events.map((e) => [e.Type, e.Name]))}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    close: () => stream.cancel(),
  };
}

void test('a policy added, modified and deleted within the publish delay is seen added, then deleted (fake clock)', async (t) => {
  const clock = new FakeClock(Date.now());
  const { state, policies, agent } = await startAgent(t, clock);
  const w = watch(state);
  t.after(() => w.close());
  await w.registered;
  assert.equal(await send(policies, 'ADDED', 'Block'), PolicyStatus.Applied);
  await clock.advanceAsync(10);
  await agent.whenIdle(); // reconciled: it was in the driver for a moment
  assert.equal(await send(policies, 'MODIFIED', 'Audit'), PolicyStatus.Modified);
  assert.equal(await send(policies, 'DELETED', 'Audit'), PolicyStatus.Deleted);
  await clock.advanceAsync(STATE_PUBLISH_DELAY_MS);
  await agent.whenIdle();
  await w.until((e) => e.some((x) => x.Type === 'deleted'));
  assert.deepEqual(w.events.map((e) => [e.Kind, e.Type, e.Name]), [['policy', 'added', 'KubeArmorHostPolicy/brief'], ['policy', 'deleted', 'KubeArmorHostPolicy/brief']]);
  assert.equal(json(w.events[0]!).name, 'brief');
});

void test('added, then modified and deleted-and-re-added within the delay: the watcher ends with the final version', async (t) => {
  const clock = new FakeClock(Date.now());
  const { state, policies, agent } = await startAgent(t, clock);
  await send(policies, 'ADDED', 'Block');
  await clock.advanceAsync(STATE_PUBLISH_DELAY_MS);
  await agent.whenIdle();
  const w = watch(state);
  t.after(() => w.close());
  await w.registered;
  await send(policies, 'DELETED', 'Block');
  await send(policies, 'ADDED', 'Audit');
  await clock.advanceAsync(10);
  await agent.whenIdle();
  await clock.advanceAsync(STATE_PUBLISH_DELAY_MS);
  await w.until((e) => e.length >= 2);
  assert.deepEqual(w.events.map((e) => e.Type), ['deleted', 'added'], 'the re-add is not hidden as "unchanged" or "updated"');
  const last = json(w.events[1]!);
  const snapshot = await new Promise<StateEvents>((resolve, reject) => { const s = state.getState({}); s.on('data', resolve); s.on('error', reject); });
  const inForce = json(snapshot.StateEvents.find((e) => e.Kind === 'policy')!);
  assert.equal(last.revision, inForce.revision, 'the final version');
  assert.equal(last.state, 'applied');
});
