/**
 * Where a driver rule came from: the policies that contributed it, for alert enrichment
 * (PolicyName, Severity, Tags, Message, Action) and for status.
 */
export type PolicyKind = 'KubeArmorHostPolicy' | 'KubeArmorPolicy' | 'KubeArmorClusterPolicy';
export type ActionName = 'Allow' | 'Audit' | 'Block';

export interface RuleOrigin {
  kind: PolicyKind;
  namespace?: string;
  policy: string;
  severity: number;
  tags: string[];
  message: string;
}

export interface RuleProvenance {
  ruleId: bigint;
  action: ActionName;
  /** Highest severity first, then by policy name: origins[0] names the alert. */
  origins: RuleOrigin[];
}

export interface ProvenanceLookup {
  lookup(ruleId: bigint): RuleProvenance | undefined;
}
