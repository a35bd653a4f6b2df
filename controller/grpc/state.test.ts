import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { StateAgentClient, type StateEvent, type StateEvents } from '../../proto/gen/state_agent.js';
import { stateAgentBinding, STATE_KIND, STATE_TYPE, type AgentStateEvent, type StateProvider } from './state.js';
import { insecure, separateConnection, startTestServer } from './testing.js';
import { LogBroker, logServiceBinding } from './logs/index.js';
import { LogServiceClient } from '../../proto/gen/feeder.js';

function fakeProvider(initial: AgentStateEvent[]) {
  const listeners = new Set<(e: AgentStateEvent) => void>();
  const provider: StateProvider = {
    snapshot: () => initial,
    subscribe: (l) => { listeners.add(l); return () => listeners.delete(l); },
  };
  return { provider, emit: (e: AgentStateEvent) => listeners.forEach((l) => l(e)), listeners };
}

const node: AgentStateEvent = { kind: STATE_KIND.node, type: STATE_TYPE.added, name: 'win-node-1', object: { NodeName: 'win-node-1', KernelVersion: '10.0.20348' } };
const pol: AgentStateEvent = { kind: STATE_KIND.policy, type: STATE_TYPE.added, name: 'block-cmd', object: { kind: 'KubeArmorHostPolicy', name: 'block-cmd', rules: 2 } };

async function waitFor(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setImmediate(r));
}

void test('GetState sends the node and its policies in one StateEvents, Object as JSON bytes', async () => {
  const { provider } = fakeProvider([node, pol]);
  const running = await startTestServer([stateAgentBinding(provider, { queueSize: 4 })]);
  const c = new StateAgentClient(running.target, insecure(), separateConnection);
  const got: StateEvents[] = [];
  const s = c.getState({});
  s.on('data', (m: StateEvents) => got.push(m));
  await new Promise((r) => s.on('end', r));
  assert.equal(got.length, 1);
  assert.deepEqual(got[0]!.StateEvents.map((e) => [e.Kind, e.Type, e.Name]), [['node', 'added', 'win-node-1'], ['policy', 'added', 'block-cmd']]);
  assert.deepEqual(JSON.parse(Buffer.from(got[0]!.StateEvents[0]!.Object).toString()), node.object);
  c.close();
  await running.stop();
});

void test('WatchState streams changes; a watcher that falls behind is ended with RESOURCE_EXHAUSTED', async () => {
  const f = fakeProvider([node]);
  const running = await startTestServer([stateAgentBinding(f.provider, { queueSize: 100 })]);
  const c = new StateAgentClient(running.target, insecure(), separateConnection);
  const got: StateEvent[] = [];
  const s = c.watchState({});
  s.on('data', (e: StateEvent) => got.push(e));
  await waitFor(() => f.listeners.size === 1);
  f.emit({ ...pol, type: STATE_TYPE.updated });
  f.emit({ ...pol, type: STATE_TYPE.deleted });
  await waitFor(() => got.length === 2);
  assert.deepEqual(got.map((e) => e.Type), ['updated', 'deleted']);
  // a stalled watcher: reads one, stops; the producer never waits for it
  const slow = c.watchState({}) as ClientReadableStream<StateEvent>;
  const ended = new Promise<ServiceError>((resolve) => slow.on('error', resolve));
  slow.once('data', () => slow.pause());
  await waitFor(() => f.listeners.size === 1 && got.length === 2);
  for (let i = 0; i < 3000; i += 50) {
    for (let j = i; j < i + 50; j++) f.emit({ ...pol, name: `p${j}`, object: { pad: 'x'.repeat(1024) } });
    await waitFor(() => got.length === 2 + i + 50); // the fast watcher keeps up
  }
  slow.resume();
  assert.equal((await ended).code, status.RESOURCE_EXHAUSTED);
  s.on('error', () => undefined);
  s.cancel();
  await waitFor(() => f.listeners.size === 0);
  c.close();
  await running.stop();
});

void test('WatchState streams count under grpc.maxSubscribers with the LogService streams; beyond, RESOURCE_EXHAUSTED', async () => {
  const f = fakeProvider([node]);
  const broker = new LogBroker({ queueSize: 8, maxSubscribers: 2, notice: { hostName: 'h', clusterName: 'c' } });
  const running = await startTestServer([stateAgentBinding(f.provider, { queueSize: 100, queueBytes: 65536, slots: broker }), logServiceBinding(broker)]);
  const c = new StateAgentClient(running.target, insecure(), separateConnection);
  const logs = new LogServiceClient(running.target, insecure(), separateConnection);
  const refusal = (s: ClientReadableStream<unknown>) => new Promise<ServiceError>((resolve) => s.on('error', resolve));
  const first = c.watchState({});
  first.on('error', () => undefined);
  const alerts = logs.watchAlerts({ Filter: 'policy' });
  alerts.on('error', () => undefined);
  await waitFor(() => f.listeners.size === 1 && broker.subscriberCount() === 2);
  const third = refusal(c.watchState({}) as ClientReadableStream<unknown>);
  assert.equal((await third).code, status.RESOURCE_EXHAUSTED);
  assert.match((await third).details, /grpc\.maxSubscribers/);
  const fourth = refusal(logs.watchLogs({ Filter: 'all' }) as ClientReadableStream<unknown>);
  assert.equal((await fourth).code, status.RESOURCE_EXHAUSTED, 'a LogService stream counts the state watcher too');
  assert.equal(broker.refused, 2);
  first.cancel();
  await waitFor(() => f.listeners.size === 0 && broker.subscriberCount() === 1);
  const again = c.watchState({});
  again.on('error', () => undefined);
  await waitFor(() => f.listeners.size === 1);
  again.cancel();
  alerts.cancel();
  c.close();
  logs.close();
  await running.stop();
});

void test('a stalled WatchState watcher holds at most grpc.subscriberQueueBytes, then is ended', async () => {
  const f = fakeProvider([node]);
  const running = await startTestServer([stateAgentBinding(f.provider, { queueSize: 1_000_000, queueBytes: 65536 })]);
  const c = new StateAgentClient(running.target, insecure(), separateConnection);
  const slow = c.watchState({}) as ClientReadableStream<StateEvent>;
  const ended = new Promise<ServiceError>((resolve) => slow.on('error', resolve));
  slow.pause();
  await waitFor(() => f.listeners.size === 1);
  // ~10 MB of state events for a watcher that never reads: far past the byte bound.
  for (let i = 0; i < 10_000; i++) f.emit({ ...pol, name: `p${i}`, object: { pad: 'x'.repeat(1024) } });
  slow.resume();
  const outcome = await Promise.race([ended.then((e) => e.code), new Promise((r) => setTimeout(() => r('never ended'), 5000))]);
  assert.equal(outcome, status.RESOURCE_EXHAUSTED);
  slow.cancel();
  c.close();
  await running.stop();
});
