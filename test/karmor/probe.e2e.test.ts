/**
 * policy.ProbeService on a running agent (emulator): getProbeData lists the host
 * policies this node enforces, by node name, with their data; the health service says
 * SERVING for it. The client is generated from upstream's field names and numbers
 * (proto/policy.proto); karmor itself is exercised in karmor.e2e.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials, loadPackageDefinition, type ServiceError } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { protoPath as healthProto } from 'grpc-health-check';
import { ProbeServiceClient, type ProbeResponse } from '../../proto/gen/policy.js';
import { hostPolicy, startHarness } from '../agent-harness.js';

type HealthClient = { Check(req: { service: string }, cb: (e: ServiceError | null, r: { status: string }) => void): void; close(): void };

function health(address: string): HealthClient {
  const pkg = loadPackageDefinition(loadSync(healthProto, { enums: String })) as unknown as { grpc: { health: { v1: { Health: new (a: string, c: unknown) => HealthClient } } } };
  return new pkg.grpc.health.v1.Health(address, credentials.createInsecure());
}

void test('getProbeData: the host policies in force on this node, keyed by node name; health SERVING', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('enforced.yaml', hostPolicy('hsp-enforced', '  file:\n    matchPaths: [{path: C:\\Secrets\\a.txt}]\n'));
  h.writePolicy('other-node.yaml', `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: hsp-elsewhere}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/hostname: some-other-node}}
  file: {matchPaths: [{path: C:\\x.txt}]}
`);
  const runtime = await h.start();
  await h.until((r) => r.length === 1, 'the selected policy in the driver');
  const address = runtime.grpcAddress!;
  const client = new ProbeServiceClient(address, credentials.createInsecure());
  const hc = health(address);
  t.after(() => { client.close(); hc.close(); });

  const probe = await new Promise<ProbeResponse>((resolve, reject) => client.getProbeData({}, (e, r) => (e ? reject(e) : resolve(r))));
  assert.deepEqual(probe.containerList, []);
  assert.deepEqual(probe.containerMap, {});
  assert.deepEqual(Object.keys(probe.hostMap), ['test-node']);
  const host = probe.hostMap['test-node']!;
  assert.deepEqual(host.policyList, ['hsp-enforced']);
  const data = JSON.parse(Buffer.from(host.policyDataList[0]!.policy).toString()) as Record<string, unknown>;
  assert.deepEqual(data.metadata, { policyName: 'hsp-enforced' });
  assert.equal(data.state, 'applied');
  assert.equal(data.ruleCount, 1);

  const status = await new Promise<string>((resolve, reject) => hc.Check({ service: 'policy.ProbeService' }, (e, r) => (e ? reject(e) : resolve(r.status))));
  assert.equal(status, 'SERVING');
});
