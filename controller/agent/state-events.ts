/**
 * The agent's state as StateAgent events: the node (upstream's Node shape, this
 * machine's values), and each policy with its state. Shortly after changes the policy
 * set is compared with the last one published and the differences go out as added /
 * updated / deleted events; every policy change in between is remembered, so a policy
 * added and deleted before the publish is still seen added, then deleted. Also what
 * policy.ProbeService reports: the host policies in force here.
 */
import { STATE_KIND, STATE_TYPE, type AgentStateEvent, type ProbeProvider, type StateProvider } from '../grpc/index.js';
import type { Clock, TimerHandle } from '../clock/index.js';
import { nodeObject } from '../node/index.js';
import type { PolicyEntry } from '../store/index.js';
import { entryStatus, policyStatusesByKey, type PolicyStatus } from './status.js';
import type { AgentView } from './views.js';

const policyObject = (p: PolicyStatus) => ({
  kind: p.kind, namespace: p.namespace ?? '', name: p.name, source: p.source, state: p.state,
  reasons: p.reasons, ruleCount: p.ruleCount, revision: p.digest ?? '',
});

function policyEvent(type: string, p: PolicyStatus): AgentStateEvent {
  return { kind: STATE_KIND.policy, type, name: p.key, object: policyObject(p) };
}

const deletedEvent = (key: string): AgentStateEvent => ({ kind: STATE_KIND.policy, type: STATE_TYPE.deleted, name: key, object: { key } });

/** States of a host policy that this node enforces (in full, in part, or its last good version). */
const IN_FORCE = new Set<PolicyStatus['state']>(['applied', 'partial', 'last_known_good', 'pending']);

/** getProbeData: the host policies in force here; `metadata.policyName` as upstream names it. */
export function probeProvider(agent: AgentView): ProbeProvider {
  return {
    nodeName: () => agent.config().hostName,
    hostPolicies: () => policyStatusesByKey(agent)
      .filter((p) => p.kind === 'KubeArmorHostPolicy' && IN_FORCE.has(p.state))
      .map((p) => ({ name: p.name, object: { metadata: { policyName: p.name }, ...policyObject(p) } })),
  };
}

/** State events trail changes by this much, so a burst of changes costs one comparison. */
export const STATE_PUBLISH_DELAY_MS = 200;

const fingerprintOf = (p: PolicyStatus): string => `${p.state}|${p.digest ?? ''}|${p.ruleCount}`;

/** What happened to a key since the last publish: coalescing keeps the final state and never hides a lifecycle. */
interface Touched {
  /** The policy was removed at some point in the window (a re-add is then deleted + added). */
  removed: boolean;
  /** Its last status while it was in force, for one that came and went within the window. */
  last?: PolicyStatus;
}

/** The events of a policy in force now, against what was published (undefined: nothing). */
function changeOf(p: PolicyStatus, before: string | undefined, fingerprint: string, removedMeanwhile: boolean): AgentStateEvent[] {
  if (before === undefined) return [policyEvent(STATE_TYPE.added, p)];
  if (removedMeanwhile) return [deletedEvent(p.key), policyEvent(STATE_TYPE.added, p)];
  return before === fingerprint ? [] : [policyEvent(STATE_TYPE.updated, p)];
}

export class AgentStateProvider implements StateProvider {
  private readonly listeners = new Set<(event: AgentStateEvent) => void>();
  private published = new Map<string, string>();
  private touched = new Map<string, Touched>();
  private timer: TimerHandle | undefined;

  constructor(private readonly agent: AgentView, private readonly clock: Clock) {}

  /** A policy in force changed (each change, before any reconcile): remembered until the next publish. */
  policyChanged(key: string, entry: PolicyEntry<unknown> | undefined): void {
    if (this.listeners.size === 0) return;
    const t = this.touched.get(key) ?? { removed: false };
    if (entry) t.last = entryStatus(this.agent, entry);
    else t.removed = true;
    this.touched.set(key, t);
    this.schedule();
  }

  /** The agent reconciled: publish what changed, coalescing a burst into one comparison. */
  reconciled(): void {
    if (this.listeners.size === 0) return;
    // A policy that goes again before the publish is reported with what the reconcile made of it.
    for (const [key, t] of this.touched) {
      const entry = this.agent.desired.get(key);
      if (entry) t.last = entryStatus(this.agent, entry);
    }
    this.schedule();
  }

  close(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  snapshot(): AgentStateEvent[] {
    return [this.nodeEvent(STATE_TYPE.added), ...policyStatusesByKey(this.agent).map((p) => policyEvent(STATE_TYPE.added, p))];
  }

  subscribe(listener: (event: AgentStateEvent) => void): () => void {
    // Changes are relative to what the first watcher could have seen: the current state.
    if (this.listeners.size === 0) {
      this.published = this.fingerprints();
      this.touched.clear();
    }
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private schedule(): void {
    if (this.timer) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.publishChanges();
    }, STATE_PUBLISH_DELAY_MS);
  }

  private nodeEvent(type: string): AgentStateEvent {
    const config = this.agent.config();
    return {
      kind: STATE_KIND.node, type, name: config.hostName,
      object: nodeObject({ clusterName: config.clusterName, nodeName: config.hostName, labels: config.nodeLabels, visibility: config.hostTelemetry }),
    };
  }

  private fingerprints(): Map<string, string> {
    return new Map(policyStatusesByKey(this.agent).map((p) => [p.key, fingerprintOf(p)]));
  }

  private publishChanges(): void {
    const touched = this.touched;
    this.touched = new Map();
    const next = new Map<string, string>();
    const events: AgentStateEvent[] = [];
    for (const p of policyStatusesByKey(this.agent)) {
      const fingerprint = fingerprintOf(p);
      next.set(p.key, fingerprint);
      events.push(...changeOf(p, this.published.get(p.key), fingerprint, touched.get(p.key)?.removed === true));
    }
    for (const key of this.published.keys()) if (!next.has(key)) events.push(deletedEvent(key));
    // Came and went between two publishes: a watcher still sees it added, then deleted.
    for (const [key, t] of touched) {
      if (!this.published.has(key) && !next.has(key) && t.last) events.push(policyEvent(STATE_TYPE.added, t.last), deletedEvent(key));
    }
    this.published = next;
    for (const event of events) for (const listener of this.listeners) listener(event);
  }
}
