/**
 * The agent's state as StateAgent events: the node, and each policy with its state.
 * After every reconcile the policy set is compared with the last one published and the
 * differences go out as added / updated / deleted events.
 */
import { STATE_KIND, STATE_TYPE, type AgentStateEvent, type StateProvider } from '../grpc/index.js';
import type { Clock, TimerHandle } from '../clock/index.js';
import { policyStatuses, type PolicyStatus } from './status.js';
import type { AgentView } from './views.js';

function policyEvent(type: string, p: PolicyStatus): AgentStateEvent {
  return {
    kind: STATE_KIND.policy, type, name: p.key,
    object: {
      kind: p.kind, namespace: p.namespace ?? '', name: p.name, source: p.source, state: p.state,
      reasons: p.reasons, ruleCount: p.ruleCount, revision: p.digest ?? '',
    },
  };
}

/** State events trail reconciles by this much, so a burst of changes costs one comparison. */
export const STATE_PUBLISH_DELAY_MS = 200;

const fingerprintOf = (p: PolicyStatus): string => `${p.state}|${p.digest ?? ''}|${p.ruleCount}`;

export class AgentStateProvider implements StateProvider {
  private readonly listeners = new Set<(event: AgentStateEvent) => void>();
  private published = new Map<string, string>();
  private timer: TimerHandle | undefined;

  constructor(private readonly agent: AgentView, private readonly clock: Clock) {}

  /** The agent reconciled: publish what changed, coalescing a burst into one comparison. */
  reconciled(): void {
    if (this.listeners.size === 0 || this.timer) return;
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.publishChanges();
    }, STATE_PUBLISH_DELAY_MS);
  }

  close(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  snapshot(): AgentStateEvent[] {
    return [this.nodeEvent(STATE_TYPE.added), ...policyStatuses(this.agent).map((p) => policyEvent(STATE_TYPE.added, p))];
  }

  subscribe(listener: (event: AgentStateEvent) => void): () => void {
    // Changes are relative to what the first watcher could have seen: the current state.
    if (this.listeners.size === 0) this.published = this.fingerprints();
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private nodeEvent(type: string): AgentStateEvent {
    const config = this.agent.config();
    return {
      kind: STATE_KIND.node, type, name: config.hostName,
      object: { name: config.hostName, cluster: config.clusterName, labels: config.nodeLabels, enforcer: 'kawin', driver: this.agent.driver.kind },
    };
  }

  private fingerprints(): Map<string, string> {
    return new Map(policyStatuses(this.agent).map((p) => [p.key, fingerprintOf(p)]));
  }

  private publishChanges(): void {
    const next = new Map<string, string>();
    const events: AgentStateEvent[] = [];
    for (const p of policyStatuses(this.agent)) {
      const fingerprint = fingerprintOf(p);
      next.set(p.key, fingerprint);
      const before = this.published.get(p.key);
      if (before === undefined) events.push(policyEvent(STATE_TYPE.added, p));
      else if (before !== fingerprint) events.push(policyEvent(STATE_TYPE.updated, p));
    }
    for (const key of this.published.keys()) {
      if (!next.has(key)) events.push({ kind: STATE_KIND.policy, type: STATE_TYPE.deleted, name: key, object: { key } });
    }
    this.published = next;
    for (const event of events) for (const listener of this.listeners) listener(event);
  }
}
