/**
 * Outcome feedback to the sources that ask for it (the CRD source writes Events): after
 * each reconcile, every policy's state on this node, grouped by the source that holds
 * it, plus the identities a source held that are gone. A source whose version lost to a
 * stronger source (sources.precedence) hears `not_enforced` with the winner named.
 */
import type { PolicyOutcome, PolicySource } from '../sources/types.js';
import type { PolicyIdentity } from '../store/index.js';
import type { PolicyStatus } from './status.js';

export class SourceFeedback {
  /** source → origin → identity, as last delivered (to tell what is gone). */
  private readonly held = new Map<string, Map<string, PolicyIdentity>>();

  deliver(sources: readonly PolicySource[], statuses: () => PolicyStatus[], precedence: readonly string[]): void {
    const observers = sources.filter((s) => s.observeOutcomes);
    if (!observers.length) return;
    const bySource = new Map<string, PolicyOutcome[]>(observers.map((s) => [s.name, []]));
    for (const status of statuses()) {
      bySource.get(status.source)?.push(outcomeOf(status));
      for (const loser of status.conflicts) {
        const [source, ...origin] = loser.split(':');
        bySource.get(source!)?.push({
          ...outcomeOf(status), origin: origin.join(':'), state: 'not_enforced', ruleCount: 0, problems: [],
          reasons: [`overridden by ${status.source} ${status.origin} (sources.precedence: ${precedence.join(' > ')})`],
        });
      }
    }
    for (const source of observers) {
      const outcomes = bySource.get(source.name)!;
      const now = new Map(outcomes.map((o) => [o.origin, o.identity]));
      const before = this.held.get(source.name) ?? new Map<string, PolicyIdentity>();
      const removed = [...before].filter(([origin]) => !now.has(origin)).map(([, identity]) => identity);
      this.held.set(source.name, now);
      source.observeOutcomes!(outcomes, removed);
    }
  }
}

function outcomeOf(s: PolicyStatus): PolicyOutcome {
  return {
    key: s.key, identity: { kind: s.kind, name: s.name, ...(s.namespace ? { namespace: s.namespace } : {}) },
    origin: s.origin, state: s.state, reasons: s.reasons, problems: s.problems, ruleCount: s.ruleCount,
  };
}
