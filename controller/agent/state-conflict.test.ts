/**
 * A policy name defined by two files: `kawin status` lists both units (each with the
 * conflict), but StateAgent and probe speak of policies by name, one event per policy:
 * policyStatuses returned the key twice, so GetState sent two `policy` events with one
 * Name and every publish flapped between them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { credentials } from '@grpc/grpc-js';
import { StateAgentClient, type StateEvents } from '../../proto/gen/state_agent.js';
import { hostPolicy, startHarness } from '../../test/agent-harness.js';
import { policyStatuses, policyStatusesByKey } from './status.js';

const block = (name: string, exe: string) => hostPolicy(name, `  process:
    matchPaths:
      - path: C:\\Windows\\System32\\${exe}
  action: Block
`);

void test('one status per policy key for StateAgent and probe, the unit in force first; status keeps both units', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('b-first.yaml', block('dup', 'cmd.exe'));
  h.writePolicy('other.yaml', block('other', 'certutil.exe'));
  await h.start();
  await h.until((r) => r.length === 2, 'both rules');
  h.writePolicy('a-second.yaml', block('dup', 'whoami.exe'));
  const deadline = Date.now() + 10_000;
  while (h.runtime!.view.desired.conflicts().length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  await h.runtime!.agent.whenIdle();
  const rows = policyStatuses(h.runtime!.view).filter((p) => p.name === 'dup');
  assert.equal(rows.length, 2, 'status lists both units');
  const byKey = policyStatusesByKey(h.runtime!.view);
  const keys = byKey.map((p) => p.key);
  assert.deepEqual(keys, [...new Set(keys)], 'no key twice');
  const dup = byKey.find((p) => p.name === 'dup')!;
  assert.equal(dup.state, 'last_known_good');
  assert.ok(dup.origin.endsWith('b-first.yaml'), 'the unit in force speaks for the policy');
  const client = new StateAgentClient(h.runtime!.grpcAddress!, credentials.createInsecure());
  t.after(() => client.close());
  const got = await new Promise<StateEvents>((resolve, reject) => {
    const s = client.getState({});
    s.on('data', resolve);
    s.on('error', reject);
  });
  const events = got.StateEvents.filter((e) => e.Kind === 'policy').map((e) => e.Name);
  assert.equal(events.length, 2);
  assert.deepEqual(events, [...new Set(events)], 'GetState: one policy event per name');
});
