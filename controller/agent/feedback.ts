/**
 * Outcome feedback to the sources that ask for it (the CRD source writes Events): after
 * each reconcile, every policy's state on this node, grouped by the source that holds
 * it, plus the identities a source held that are gone. A source whose version lost to a
 * stronger source (sources.precedence) hears `not_enforced` with the winner named.
 */
import type { PolicyOutcome } from '../sources/types.js';
import type { PolicyIdentity } from '../store/index.js';
import type { Agent } from './agent.js';
import { policyStatuses, type PolicyStatus } from './status.js';

export function bindSourceFeedback(agent: Agent): void {
  const held = new Map<string, Map<string, PolicyIdentity>>();
  agent.onReconciled(() => {
    const observers = agent.sourceSet.observers();
    if (!observers.length) return;
    const bySource = new Map<string, PolicyOutcome[]>(observers.map((s) => [s, []]));
    for (const status of policyStatuses(agent)) {
      bySource.get(status.source)?.push(outcomeOf(status));
      for (const loser of status.conflicts) {
        const [source, ...rest] = loser.split(':');
        bySource.get(source!)?.push({
          ...outcomeOf(status), origin: rest.join(':'), state: 'not_enforced', ruleCount: 0, problems: [],
          reasons: [`overridden by ${status.source} ${status.origin} (sources.precedence: ${agent.config.sources.precedence.join(' > ')})`],
        });
      }
    }
    for (const [source, outcomes] of bySource) {
      const now = new Map(outcomes.map((o) => [o.origin, o.identity]));
      const removed = [...(held.get(source) ?? new Map<string, PolicyIdentity>())].filter(([origin]) => !now.has(origin)).map(([, id]) => id);
      held.set(source, now);
      agent.sourceSet.observeOutcomes(source, outcomes, removed);
    }
  });
}

function outcomeOf(s: PolicyStatus): PolicyOutcome {
  return {
    key: s.key, identity: { kind: s.kind, namespace: s.namespace, name: s.name }, origin: s.origin, state: s.state,
    reasons: s.reasons, problems: s.problems, ruleCount: s.ruleCount,
  };
}
