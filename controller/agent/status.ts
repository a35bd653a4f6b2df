/**
 * Status: where every policy stands (applied, partially applied, invalid, last-known-
 * good, not selected, not enforced yet, pending) and the agent's own state (driver,
 * sources, generation, last reconcile). One derivation serves `kawin status`, the admin
 * gRPC service, the policies-by-state metric and the logs.
 */
import type { RuleRefusal } from '../reconcile/index.js';
import type { PolicyEntry, Problem, RejectedUnit, SourceStatus } from '../store/index.js';
import { AGENT_VERSION } from './version.js';
import type { AgentView } from './views.js';

export type PolicyState = 'applied' | 'partial' | 'pending' | 'invalid' | 'last_known_good' | 'not_selected' | 'not_enforced';

export interface PolicyStatus {
  key: string;
  kind: string;
  namespace?: string;
  name: string;
  source: string;
  origin: string;
  state: PolicyState;
  /** Why the state is not plainly `applied`, in words. */
  reasons: string[];
  ruleCount: number;
  digest?: string;
  /** Errors (of the rejected newer version, for last_known_good). */
  problems: Problem[];
  warnings: Problem[];
  /** Other sources or files holding the same identity (precedence lost). */
  conflicts: string[];
}

export interface AgentStatus {
  version: string;
  node: string;
  cluster: string;
  ready: boolean;
  startedAt: string;
  uptimeSeconds: number;
  driver: {
    connected: boolean;
    kind: string;
    generation?: string;
    rules?: number;
    rulesDesired: number;
    inSync: boolean;
    portConnected?: boolean;
    eventsEmitted?: string;
    eventsDropped?: string;
  };
  sources: SourceStatus[];
  policies: Record<PolicyState, number>;
  /** Units rejected as a whole (syntax, encoding, size, apiVersion): what they held before stays. */
  rejected: RejectedUnit[];
  /** Policy identities defined more than once in one source. */
  conflicts: number;
  lastReconcile?: { time: string; outcome?: string; error?: string; added?: number; removed?: number; drift?: number };
}

const STATES: PolicyState[] = ['applied', 'partial', 'pending', 'invalid', 'last_known_good', 'not_selected', 'not_enforced'];

export function policyStatuses(agent: AgentView): PolicyStatus[] {
  const out: PolicyStatus[] = [];
  for (const entry of agent.desired.policies()) out.push(entryStatus(agent, entry));
  for (const bad of agent.desired.invalid()) {
    out.push({
      key: bad.key, kind: bad.identity.kind, namespace: bad.identity.namespace, name: bad.identity.name,
      source: bad.source, origin: bad.origin, state: 'invalid', reasons: [`${bad.errors.length} error(s)`],
      ruleCount: 0, problems: bad.errors, warnings: [], conflicts: [],
    });
  }
  return out.sort((a, b) => a.key.localeCompare(b.key));
}

/**
 * One status per policy key, for what speaks of policies by name (StateAgent, probe):
 * the unit in force, or when none is, the first unit that holds the key. policyStatuses
 * lists every unit, so a key defined by two units (a conflict) appears there twice.
 */
export function policyStatusesByKey(agent: AgentView): PolicyStatus[] {
  const byKey = new Map<string, PolicyStatus>();
  for (const status of policyStatuses(agent)) {
    const inForce = agent.desired.get(status.key);
    if (!byKey.has(status.key) || (inForce?.source === status.source && inForce.origin === status.origin)) byKey.set(status.key, status);
  }
  return [...byKey.values()];
}

/** The status of one policy in force (the store's effective entry for its key). */
export function entryStatus(agent: AgentView, entry: PolicyEntry<unknown>): PolicyStatus {
  const compiled = agent.rules.status(entry.key);
  const conflict = agent.desired.conflictOf(entry.key);
  const base = {
    key: entry.key, kind: entry.identity.kind, namespace: entry.identity.namespace, name: entry.identity.name,
    source: entry.source, origin: entry.origin, digest: entry.digest, ruleCount: compiled?.rules.length ?? 0,
    problems: conflict ? [conflict, ...entry.rejected] : entry.rejected, warnings: [...entry.warnings, ...(compiled?.problems ?? [])],
    conflicts: agent.desired.contenders(entry.key),
  };
  const refused = compiled?.rules.flatMap((r) => agent.driver.refusal(r.id) ?? []) ?? [];
  return { ...base, ...(refusedState(base.ruleCount, refused) ?? stateOf(agent, { ...base, conflict }, compiled?.selection)) };
}

function stateOf(
  agent: AgentView,
  p: Pick<PolicyStatus, 'problems' | 'warnings' | 'kind'> & { conflict?: unknown },
  selection: { selected: boolean; enforced: boolean; reason?: string } | undefined,
): { state: PolicyState; reasons: string[] } {
  if (selection && !selection.enforced && (selection.selected || p.kind !== 'KubeArmorHostPolicy')) {
    return { state: 'not_enforced', reasons: [selection.reason || `${p.kind} is not enforced on this node yet`] };
  }
  if (selection && !selection.selected) return { state: 'not_selected', reasons: [selection.reason ?? 'node labels do not match'] };
  if (p.problems.length) return { state: 'last_known_good', reasons: [lastKnownGoodReason(p)] };
  if (!agent.driver.inSync) return { state: 'pending', reasons: ['not yet reconciled into the driver'] };
  if (p.warnings.length) return { state: 'partial', reasons: p.warnings.map((w) => `${w.path ? `${w.path}: ` : ''}${w.message}`) };
  return { state: 'applied', reasons: [] };
}

function lastKnownGoodReason(p: Pick<PolicyStatus, 'problems'> & { conflict?: unknown }): string {
  return p.conflict ? p.problems[0]!.message : 'the newest version was rejected; the previous version is in force';
}

/**
 * Rules of the policy refused (a volume this node lacks, a driver limit, the driver's own
 * rejection): the rest of the policy is enforced (partial), or none of it (invalid).
 */
function refusedState(ruleCount: number, refused: RuleRefusal[]): { state: PolicyState; reasons: string[] } | undefined {
  if (refused.length === 0) return undefined;
  const reasons = refused.map((r) => `rule ${r.path}: ${r.reason}`);
  return { state: refused.length === ruleCount ? 'invalid' : 'partial', reasons };
}

export function countByState(statuses: PolicyStatus[]): Record<PolicyState, number> {
  const counts = Object.fromEntries(STATES.map((s) => [s, 0])) as Record<PolicyState, number>;
  for (const s of statuses) counts[s.state]++;
  return counts;
}

export function agentStatus(agent: AgentView): AgentStatus {
  const { driver, reconcile } = agent;
  const config = agent.config();
  const last = reconcile.lastReconcile;
  const state = driver.state;
  return {
    version: AGENT_VERSION,
    node: config.hostName,
    cluster: config.clusterName,
    ready: agent.ready(),
    startedAt: agent.startedAt.toISOString(),
    uptimeSeconds: Math.round((agent.now() - agent.startedAt.getTime()) / 1000),
    driver: {
      connected: driver.connected,
      kind: driver.kind,
      generation: driver.appliedGeneration?.toString(),
      rules: driver.rulesApplied,
      rulesDesired: agent.rules.rules().size,
      inSync: driver.inSync,
      portConnected: state?.portConnected,
      eventsEmitted: state?.eventsEmitted.toString(),
      eventsDropped: state?.eventsDropped.toString(),
    },
    sources: agent.desired.sourceStatus(),
    policies: countByState(policyStatuses(agent)),
    rejected: agent.desired.rejectedUnits(),
    conflicts: agent.desired.conflicts().length,
    lastReconcile: last && {
      time: last.time.toISOString(), outcome: last.result?.outcome, error: last.error,
      added: last.result?.added, removed: last.result?.removed, drift: last.result?.drift,
    },
  };
}

export function rejectedUnitsBySource(agent: AgentView): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const source of agent.desired.sourceStatus()) counts[source.name] = 0;
  for (const unit of agent.desired.rejectedUnits()) counts[unit.source] = (counts[unit.source] ?? 0) + 1;
  return counts;
}
