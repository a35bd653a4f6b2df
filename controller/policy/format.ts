/** Problems and rules as people read them: `file:line:col: error: spec.x.y: message`. */
import { MatchType, RULE_FLAG_READ_ONLY, RuleAction, RuleKind, type DriverRule, type PathMatch } from '../../driver/abi/types.js';
import { formatRuleId } from './rule-id.js';
import type { PolicyProblem } from './types.js';

export function formatProblem(p: PolicyProblem): string {
  const where = p.line > 0 ? `${p.location}:${p.line}:${p.column}` : p.location;
  return `${where}: ${p.severity}: ${p.path ? `${p.path}: ` : ''}${p.message}`;
}

export const matchName = (m: PathMatch): string => MatchType[m.match] ?? String(m.match);

/** `0x… Block Process Exact C:\Windows\System32\cmd.exe from Exact C:\x.exe read-only` */
export function formatRule(rule: DriverRule): string {
  const source = rule.source ? ` from ${matchName(rule.source)} ${rule.source.path}` : '';
  const flags = rule.flags & RULE_FLAG_READ_ONLY ? ' read-only' : '';
  return `${formatRuleId(rule.id)} ${RuleAction[rule.action]} ${RuleKind[rule.kind]} ${matchName(rule.target)} ${rule.target.path}${source}${flags}`;
}
