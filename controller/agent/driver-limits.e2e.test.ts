import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { credentials } from '@grpc/grpc-js';
import { PolicyServiceClient, PolicyStatus } from '../../proto/gen/policy.js';
import { startHarness } from '../../test/agent-harness.js';

const block = (name: string, path: string) => ({
  apiVersion: 'security.kubearmor.com/v1', kind: 'KubeArmorHostPolicy', metadata: { name },
  spec: { nodeSelector: { matchLabels: { 'kubernetes.io/os': 'windows' } }, process: { matchPaths: [{ path }] }, action: 'Block' },
});

function send(client: PolicyServiceClient, object: unknown): Promise<PolicyStatus> {
  const policy = Buffer.from(JSON.stringify({ type: 'ADDED', object }));
  return new Promise((resolve, reject) => client.hostPolicy({ policy }, (e, r) => (e ? reject(e) : resolve(r.status))));
}

void test('a policy the driver cannot hold is refused over gRPC (and by files) and never blocks the next one', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('nul.yaml', `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: nul-file
spec:
  nodeSelector: { matchLabels: {} }
  process:
    matchPaths:
      - path: "C:\\\\Windows\\\\cert\\0util.exe"
  action: Block
`);
  const runtime = await h.start({ sources: { files: { enabled: true, paths: [h.policyDir], debounceMs: 20 }, grpc: { enabled: true } } });
  const client = new PolicyServiceClient(runtime.grpcAddress!, credentials.createInsecure());
  t.after(() => client.close());
  assert.equal(await send(client, block('nul', 'C:\\Windows\\cert\0util.exe')), PolicyStatus.Invalid);
  assert.equal(await send(client, block('long', `C:\\${'a'.repeat(32_765)}`)), PolicyStatus.Invalid);
  assert.equal(await send(client, block('cmd', 'C:\\Windows\\System32\\cmd.exe')), PolicyStatus.Applied);
  await h.until((r) => r.length === 1 && r[0]!.target.path.endsWith('cmd.exe'), 'the valid policy, enforced');
  assert.deepEqual(readdirSync(join(h.config.stateDir, 'grpc-policies')), ['KubeArmorHostPolicy%2Fcmd.json'], 'only the valid policy is persisted');
});
