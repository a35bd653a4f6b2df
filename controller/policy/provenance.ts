/**
 * Where a driver rule came from: the policies that contributed it, for alert enrichment
 * (PolicyName, Severity, Tags, Message, Action) and for status.
 */
import { RuleAction } from '../../driver/abi/types.js';

export type PolicyKind = 'KubeArmorHostPolicy' | 'KubeArmorPolicy' | 'KubeArmorClusterPolicy';
/** A rule action by name: the names of the driver's RuleAction enum (one list of actions). */
export type ActionName = keyof typeof RuleAction;

/** RuleAction.Block → 'Block' (the enum's own reverse mapping). */
export function actionName(action: RuleAction): ActionName {
  return RuleAction[action] as ActionName;
}

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
