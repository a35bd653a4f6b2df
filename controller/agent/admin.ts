/**
 * The agent's side of kawin's admin service: policy listing and lookup from the status
 * derivation, deletion of gRPC-applied policies, a dry-run diff of what documents would
 * change in the driver, and the agent status.
 */
import {
  ChangeType, DeleteOutcome, PolicyState,
  type AgentStatus as AgentStatusMessage, type DiffPoliciesResponse, type GetPolicyResponse, type ListPoliciesRequest,
  type PolicyDiff, type PolicyDocument, type PolicyRef, type PolicyView, type RuleChange,
} from '../../proto/gen/kawin_admin.js';
import { RuleAction, RuleKind, type DriverRule } from '../../driver/abi/types.js';
import { fromProtoKind, toDiagnostic, toProtoKind, type AdminBackend } from '../grpc/index.js';
import { formatRule, policyKey, type Policy, type PolicyKind } from '../policy/index.js';
import type { PolicySource } from '../sources/types.js';
import { agentStatus, policyStatuses, type PolicyState as State, type PolicyStatus } from './status.js';
import type { AgentView } from './views.js';

const STATE: Record<State, PolicyState> = {
  applied: PolicyState.POLICY_STATE_APPLIED,
  partial: PolicyState.POLICY_STATE_PARTIAL,
  pending: PolicyState.POLICY_STATE_PENDING,
  invalid: PolicyState.POLICY_STATE_INVALID,
  last_known_good: PolicyState.POLICY_STATE_LAST_KNOWN_GOOD,
  not_selected: PolicyState.POLICY_STATE_NOT_SELECTED,
  not_enforced: PolicyState.POLICY_STATE_NOT_ENFORCED,
};

function view(agent: AgentView, p: PolicyStatus): PolicyView {
  const policy = agent.desired.get(p.key)?.policy;
  return {
    ref: { kind: toProtoKind(p.kind), namespace: p.namespace ?? '', name: p.name },
    source: p.source, origin: p.origin, state: STATE[p.state], ruleCount: p.ruleCount,
    problems: p.problems.map(toDiagnostic), warnings: p.warnings.map(toDiagnostic),
    action: policy?.defaults.action ?? '', severity: policy?.defaults.severity ?? 0, tags: policy?.defaults.tags ?? [],
    revision: p.digest ?? '', updatedTime: '', reasons: p.reasons, conflicts: p.conflicts,
  };
}

function keyOf(ref: PolicyRef | undefined): string | undefined {
  const kind = ref && fromProtoKind(ref.kind);
  if (!ref || !kind) return undefined;
  return policyKey({ kind: kind as PolicyKind, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) });
}

function ruleChange(rule: DriverRule): RuleChange {
  return {
    ruleId: rule.id.toString(), action: RuleAction[rule.action] ?? String(rule.action),
    operation: rule.kind === RuleKind.Process ? 'Process' : rule.kind === RuleKind.File ? 'File' : RuleKind[rule.kind] ?? '',
    target: rule.target.path, description: formatRule(rule),
  };
}

export class AgentAdmin implements AdminBackend {
  constructor(
    private readonly agent: AgentView,
    /** The running sources, asked for their capabilities (read a document, delete). */
    private readonly sources: () => readonly PolicySource[],
    private readonly subscribers: () => number,
  ) {}

  private sourceOf(name: string): PolicySource | undefined {
    return this.sources().find((s) => s.name === name);
  }

  listPolicies(filter: ListPoliciesRequest): PolicyView[] {
    const kind = filter.kind ? fromProtoKind(filter.kind) : undefined;
    return policyStatuses(this.agent)
      .filter((p) => (!kind || p.kind === kind) && (!filter.namespace || p.namespace === filter.namespace) &&
        (!filter.source || p.source === filter.source))
      .map((p) => view(this.agent, p));
  }

  async getPolicy(ref: PolicyRef): Promise<GetPolicyResponse | undefined> {
    const key = keyOf(ref);
    const status = policyStatuses(this.agent).find((p) => p.key === key);
    if (!status) return undefined;
    const text = await this.sourceOf(status.source)?.readDocument?.(status.origin) ?? '';
    return { policy: view(this.agent, status), text };
  }

  async deletePolicy(ref: PolicyRef) {
    const key = keyOf(ref);
    const entry = key ? this.agent.desired.get(key) : undefined;
    if (!entry) return { outcome: DeleteOutcome.DELETE_OUTCOME_NOT_FOUND, message: `no policy ${key ?? ref.name}` };
    const source = this.sourceOf(entry.source);
    if (!source?.deletePolicy) {
      return { outcome: DeleteOutcome.DELETE_OUTCOME_NOT_DELETABLE, message: `${key} comes from ${entry.source} (${entry.origin}): delete it there` };
    }
    const outcome = await source.deletePolicy(entry.identity);
    return { outcome: outcome.deleted ? DeleteOutcome.DELETE_OUTCOME_DELETED : DeleteOutcome.DELETE_OUTCOME_NOT_FOUND, message: outcome.message };
  }

  diff(documents: PolicyDocument[]): DiffPoliciesResponse {
    const response: DiffPoliciesResponse = { policies: [], problems: [], changed: false };
    for (const doc of documents) {
      const unit = this.agent.desired.check(doc.text, doc.location);
      response.problems.push(...unit.problems.map(toDiagnostic));
      for (const parsed of unit.documents) {
        const diff = this.diffOne(parsed.key, parsed.identity, parsed.policy, doc.location);
        diff.problems = parsed.problems.filter((p) => p.severity === 'error').map(toDiagnostic);
        diff.warnings = parsed.problems.filter((p) => p.severity === 'warning').map(toDiagnostic);
        if (diff.rulesAdded.length || diff.rulesRemoved.length) response.changed = true;
        response.policies.push(diff);
      }
    }
    return response;
  }

  status(): AgentStatusMessage {
    const s = agentStatus(this.agent);
    return {
      version: s.version, nodeName: s.node, clusterName: s.cluster, ready: s.ready, startedTime: s.startedAt,
      uptimeSeconds: s.uptimeSeconds,
      driver: {
        connected: s.driver.connected, mode: s.driver.kind, generation: Number(s.driver.generation ?? 0),
        ruleCount: s.driver.rules ?? 0, eventsDropped: Number(s.driver.eventsDropped ?? 0),
      },
      sources: s.sources.map((src) => ({
        name: src.name, synced: src.inSync, revision: src.revision ?? '', error: src.error ?? '', documents: src.units,
      })),
      policiesApplied: s.policies.applied + s.policies.partial, policiesInvalid: s.policies.invalid + s.policies.last_known_good,
      subscribers: this.subscribers(), lastReconcileTime: s.lastReconcile?.time ?? '', lastReconcileError: s.lastReconcile?.error ?? '',
      rejected: s.rejected.map((u) => ({ source: u.source, origin: u.origin, problems: u.problems.map(toDiagnostic) })),
      policyConflicts: s.conflicts,
    };
  }

  /** Driver-level change: rules that would enter the table, and rules only this policy holds that would leave it. */
  private diffOne(key: string, identity: { kind: string; name: string; namespace?: string }, policy: Policy | undefined, location: string): PolicyDiff {
    const ref = { kind: toProtoKind(identity.kind), namespace: identity.namespace ?? '', name: identity.name };
    const diff: PolicyDiff = { ref, location, change: ChangeType.CHANGE_TYPE_INVALID, rulesAdded: [], rulesRemoved: [], rulesUnchanged: 0, problems: [], warnings: [] };
    const candidate = policy && this.agent.rules.compile(policy);
    if (!candidate?.valid) return diff;
    const held = this.agent.rules.status(key);
    const current = held?.valid ? held.rules : [];
    this.compareRules(diff, candidate.rules, current);
    const same = !diff.rulesAdded.length && !diff.rulesRemoved.length;
    if (!this.agent.desired.get(key)) diff.change = ChangeType.CHANGE_TYPE_CREATE;
    else diff.change = same ? ChangeType.CHANGE_TYPE_UNCHANGED : ChangeType.CHANGE_TYPE_UPDATE;
    return diff;
  }

  private compareRules(diff: PolicyDiff, next: readonly DriverRule[], current: readonly DriverRule[]): void {
    const merged = this.agent.rules.rules();
    const nextIds = new Set(next.map((r) => r.id));
    const currentIds = new Set(current.map((r) => r.id));
    for (const rule of next) {
      if (currentIds.has(rule.id)) diff.rulesUnchanged++;
      else if (!merged.has(rule.id)) diff.rulesAdded.push(ruleChange(rule));
    }
    for (const rule of current) {
      // A rule other policies also hold stays in the driver.
      const holders = this.agent.rules.lookup(rule.id)?.origins.length ?? 0;
      if (!nextIds.has(rule.id) && holders <= 1) diff.rulesRemoved.push(ruleChange(rule));
    }
  }
}
