/** Human-readable output for `kawin policy`: policy tables, outcomes, diffs. */
import {
  ChangeType, PolicyKind, policyStateToJSON,
  type Diagnostic, type DiffPoliciesResponse, type PolicyDiff, type PolicyRef, type PolicyView, type RuleChange,
} from '../../../proto/gen/kawin_admin.js';
import { fromProtoKind } from '../admin.js';

export function refLabel(ref: PolicyRef | undefined): string {
  if (!ref) return '?';
  const kind = fromProtoKind(ref.kind) ?? PolicyKind[ref.kind];
  return `${kind}/${ref.namespace ? `${ref.namespace}/` : ''}${ref.name}`;
}

export function diagnosticLine(d: Diagnostic | { location: string; line?: number; column?: number; path?: string; message: string; severity?: string }): string {
  const where = [d.location, d.line ? String(d.line) : '', d.line && d.column ? String(d.column) : ''].filter(Boolean).join(':');
  const path = d.path ? ` ${d.path}:` : '';
  const severity = 'severity' in d && d.severity === 'warning' ? 'warning' : 'error';
  return `${where}: ${severity}:${path} ${d.message}`;
}

export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()).join('\n');
}

export function policyTable(policies: PolicyView[]): string {
  if (policies.length === 0) return 'no policies';
  const rows = [['KIND', 'NAMESPACE', 'NAME', 'SOURCE', 'STATE', 'RULES', 'ISSUES']];
  for (const p of policies) {
    rows.push([
      fromProtoKind(p.ref?.kind ?? PolicyKind.POLICY_KIND_UNSPECIFIED) ?? '?', p.ref?.namespace || '-', p.ref?.name ?? '?', p.source,
      policyStateToJSON(p.state).replace('POLICY_STATE_', ''), String(p.ruleCount), `${p.problems.length} errors, ${p.warnings.length} warnings`,
    ]);
  }
  return table(rows);
}

function ruleLine(sign: string, r: RuleChange): string {
  return `  ${sign} ${r.action.padEnd(5)} ${r.operation.padEnd(7)} ${r.target}${r.description ? `  (${r.description})` : ''}  [rule ${r.ruleId}]`;
}

const CHANGE_WORD: Record<number, string> = {
  [ChangeType.CHANGE_TYPE_UNCHANGED]: 'unchanged',
  [ChangeType.CHANGE_TYPE_CREATE]: 'would be created',
  [ChangeType.CHANGE_TYPE_UPDATE]: 'would change',
  [ChangeType.CHANGE_TYPE_INVALID]: 'is invalid',
};

function policyDiff(p: PolicyDiff): string[] {
  const lines = [`${refLabel(p.ref)} (${p.location}): ${CHANGE_WORD[p.change] ?? 'unknown change'}`];
  for (const r of p.rulesAdded) lines.push(ruleLine('+', r));
  for (const r of p.rulesRemoved) lines.push(ruleLine('-', r));
  if (p.rulesUnchanged) lines.push(`    ${p.rulesUnchanged} rule(s) unchanged`);
  for (const d of p.problems) lines.push(`  ${diagnosticLine(d)}`);
  for (const d of p.warnings) lines.push(`  ${diagnosticLine(d).replace(': error:', ': warning:')}`);
  return lines;
}

export function diffReport(diff: DiffPoliciesResponse): string {
  const lines = diff.problems.map((d) => diagnosticLine(d));
  for (const p of diff.policies) lines.push(...policyDiff(p));
  lines.push(diff.changed ? 'the driver rule table would change' : 'no change to the driver rule table');
  return lines.join('\n');
}

/** A diff has errors when anything in it is invalid. */
export function diffHasErrors(diff: DiffPoliciesResponse): boolean {
  return diff.problems.length > 0 || diff.policies.some((p) => p.change === ChangeType.CHANGE_TYPE_INVALID || p.problems.length > 0);
}
