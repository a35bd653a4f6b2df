/**
 * The rules the benchmarks' load is made of: 16 real KubeArmorHostPolicy documents
 * (Audit on a directory tree each), compiled by kawin's NodeRuleSet and applied to the
 * emulated driver as the reconciler would (DOS → NT paths). The emulator's load
 * generator names these rules in turn, so every event takes the agent's whole path:
 * provenance lookup from the compiler, enrichment, encoding.
 */
import { Flavor } from '../../driver/abi/types.js';
import type { DriverClient } from '../../driver/client/index.js';
import { NodeRuleSet, parsePolicies, type ProvenanceLookup } from '../../controller/policy/index.js';

export const LOAD_POLICIES = 16;

/** The text of load policy `i` (a file under the agent's policy directory, for the soak run). */
export function policyText(i: number): string {
  return `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: load-policy-${i}
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/os: windows
  severity: 5
  tags: [bench, load]
  message: load
  action: Audit
  file:
    matchDirectories:
      - dir: C:\\kawin-load\\d${String(i).padStart(2, '0')}\\
        recursive: true
`;
}

/** The compiled rule set (the pipeline's provenance) of the load policies. */
export function loadRuleSet(): NodeRuleSet {
  const set = new NodeRuleSet({ flavor: Flavor.Windows, nodeLabels: { 'kubernetes.io/os': 'windows' } });
  for (let i = 0; i < LOAD_POLICIES; i++) {
    const doc = parsePolicies(policyText(i), `load-policy-${i}.yaml`).documents[0];
    if (!doc?.policy) throw new Error(`load-policy-${i}: ${JSON.stringify(doc?.problems ?? [])}`);
    set.apply(doc.policy);
  }
  return set;
}

/** Puts the rule set's rules in the driver's table (replacing whatever it holds). */
export async function applyLoadRules(driver: DriverClient, set: NodeRuleSet): Promise<void> {
  const state = await driver.getState();
  const current = await driver.listRules();
  const add = [...set.rules().values()].map((r) => ({ ...r, target: { path: driver.paths.toDriver(r.target.path), match: r.target.match } }));
  await driver.apply({ expectedGeneration: state.generation, remove: current.rules.map((r) => r.id), add });
}

/** Provenance of the load rules, once they are applied to `driver`. */
export async function loadProvenance(driver: DriverClient): Promise<ProvenanceLookup> {
  const set = loadRuleSet();
  await applyLoadRules(driver, set);
  return set;
}
