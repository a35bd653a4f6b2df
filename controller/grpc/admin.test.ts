import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status, type ServiceError } from '@grpc/grpc-js';
import {
  AdminServiceClient, ChangeType, DeleteOutcome, PolicyKind, PolicyState,
  type DeletePolicyRequest, type DeletePolicyResponse, type DiffPoliciesRequest, type DiffPoliciesResponse,
  type GetPolicyRequest, type GetPolicyResponse, type GetStatusRequest, type AgentStatus, type ListPoliciesRequest, type ListPoliciesResponse, type PolicyView,
} from '../../proto/gen/kawin_admin.js';
import { Registry } from 'prom-client';
import { adminServiceBinding, toDiagnostic, toProtoKind, type AdminBackend } from './admin.js';
import { RequestGate, registerGateMetrics } from './gate.js';
import { insecure, separateConnection, startTestServer, unary } from './testing.js';

const view: PolicyView = {
  ref: { kind: PolicyKind.POLICY_KIND_HOST, namespace: '', name: 'block-cmd' }, source: 'grpc', origin: 'grpc:KubeArmorHostPolicy/block-cmd',
  state: PolicyState.POLICY_STATE_APPLIED, ruleCount: 2, problems: [], warnings: [toDiagnostic({ location: 'f.yaml', line: 3, path: 'spec.network', message: 'not enforceable' })],
  action: 'Block', severity: 5, tags: ['t'], revision: 'abc', updatedTime: '2026-11-21T00:00:00.000000Z', reasons: [], conflicts: [],
};

const backend: AdminBackend = {
  listPolicies: (f) => (f.kind === PolicyKind.POLICY_KIND_CONTAINER ? [] : [view]),
  getPolicy: (ref) => (ref.name === 'block-cmd' ? { policy: view, text: '{}' } : undefined),
  deletePolicy: (ref) => ({ outcome: ref.name === 'block-cmd' ? DeleteOutcome.DELETE_OUTCOME_DELETED : DeleteOutcome.DELETE_OUTCOME_NOT_FOUND, message: '' }),
  diff: async (docs) => ({ policies: [{ ref: view.ref, location: docs[0]!.location, change: ChangeType.CHANGE_TYPE_UPDATE, rulesAdded: [{ ruleId: '18446744073709551615', action: 'Block', operation: 'File', target: 'C:\\x', description: '' }], rulesRemoved: [], rulesUnchanged: 1, problems: [], warnings: [] }], problems: [], changed: true }),
  status: () => { throw new Error('driver gone'); },
};

void test('admin service: list, get, delete, diff over the wire; backend errors become INTERNAL with the reason', async () => {
  const running = await startTestServer([adminServiceBinding(backend, { mutualTls: false, unixSocketOnly: false })]);
  const c = new AdminServiceClient(running.target, insecure(), separateConnection);
  const list = await unary<ListPoliciesRequest, ListPoliciesResponse>(c.listPolicies.bind(c), { kind: 0, namespace: '', source: '' });
  assert.deepEqual(list.policies, [view]);
  assert.equal((await unary<GetPolicyRequest, GetPolicyResponse>(c.getPolicy.bind(c), { ref: view.ref })).policy?.ruleCount, 2);
  await assert.rejects(unary(c.getPolicy.bind(c), { ref: { ...view.ref!, name: 'nope' } }), (e: ServiceError) => e.code === status.NOT_FOUND);
  await assert.rejects(unary(c.getPolicy.bind(c), {}), (e: ServiceError) => e.code === status.INVALID_ARGUMENT && /ref is required/.test(e.details));
  assert.equal((await unary<DeletePolicyRequest, DeletePolicyResponse>(c.deletePolicy.bind(c), { ref: view.ref })).outcome, DeleteOutcome.DELETE_OUTCOME_DELETED);
  const diff = await unary<DiffPoliciesRequest, DiffPoliciesResponse>(c.diffPolicies.bind(c), { documents: [{ text: 'x', location: 'a.yaml' }] });
  assert.equal(diff.changed, true);
  assert.equal(diff.policies[0]!.rulesAdded[0]!.ruleId, '18446744073709551615');
  await assert.rejects(unary<GetStatusRequest, AgentStatus>(c.getStatus.bind(c), {}), (e: ServiceError) => e.code === status.INTERNAL && /driver gone/.test(e.details));
  c.close();
  await running.stop();
});

void test('DeletePolicy is refused to a non-local peer', async () => {
  const binding = adminServiceBinding(backend, { mutualTls: false, unixSocketOnly: false });
  const handler = binding.implementation.deletePolicy as unknown as (call: unknown, cb: (e: { code: number } | null) => void) => void;
  const e = await new Promise<{ code: number } | null>((resolve) => handler({ getPeer: () => '192.0.2.9:1234', request: { ref: view.ref } }, resolve));
  assert.equal(e?.code, status.PERMISSION_DENIED);
  assert.equal(toProtoKind('KubeArmorPolicy'), PolicyKind.POLICY_KIND_CONTAINER);
});

void test('DiffPolicies requests over grpc.maxConcurrentDiffs are refused at once with RESOURCE_EXHAUSTED, and counted', async () => {
  let running = 0;
  let most = 0;
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  // Each diff holds its slot until the test releases them all: all twelve overlap, however slow the machine.
  const slow: AdminBackend = {
    ...backend,
    diff: async (docs) => {
      most = Math.max(most, ++running);
      await released;
      running--;
      return backend.diff(docs);
    },
  };
  const gate = new RequestGate('DiffPolicies', 2, 'grpc.maxConcurrentDiffs');
  const server = await startTestServer([adminServiceBinding(slow, { mutualTls: false, unixSocketOnly: false }, undefined, gate)]);
  const c = new AdminServiceClient(server.target, insecure(), separateConnection);
  const body = { documents: [{ text: 'x'.repeat(1 << 20), location: 'big.yaml' }] };
  const calls = Promise.allSettled(Array.from({ length: 12 }, () => unary<DiffPoliciesRequest, DiffPoliciesResponse>(c.diffPolicies.bind(c), body)));
  // Release once every request has arrived (two held, ten refused), or after a bound: the assertions below tell which.
  const deadline = Date.now() + 10_000;
  while (running + gate.refused < 12 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  release();
  const outcomes = await calls;
  const refused = outcomes.filter((o) => o.status === 'rejected' && (o.reason as ServiceError).code === status.RESOURCE_EXHAUSTED);
  assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 2);
  assert.equal(refused.length, 10);
  assert.match((refused[0] as PromiseRejectedResult).reason.details as string, /grpc\.maxConcurrentDiffs/);
  assert.equal(most, 2, 'never more than the bound at once');
  assert.equal(gate.refused, 10);
  const registry = new Registry();
  registerGateMetrics([gate], registry);
  assert.deepEqual((await registry.getSingleMetric('kawin_grpc_requests_refused_total')!.get()).values.map((v) => [v.labels.rpc, v.value]), [['DiffPolicies', 10]]);
  assert.equal((await unary<DiffPoliciesRequest, DiffPoliciesResponse>(c.diffPolicies.bind(c), body)).changed, true, 'served again once the others finished');
  c.close();
  await server.stop();
});
