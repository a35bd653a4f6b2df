/**
 * What a cluster user sees of this node: each change of a policy's outcome here becomes
 * one Kubernetes Event on the policy object (applied, partially applied with reasons,
 * invalid with the error, not enforced with the reason, removed). Only changes are
 * reported: the same state of the same object version is said once, so a thousand
 * reconciles make no Events. `pending` is a passing state and is not reported.
 */
import type { PolicyOutcome } from '../types.js';
import type { PolicyIdentity, Problem } from '../../store/types.js';
import type { EventRecord, EventRecorder, EventTarget } from './events.js';

export interface OutcomeTargets {
  /** The object behind an origin (kept a while after deletion, for the removal Event). */
  target(origin: string): EventTarget | undefined;
  originOf(identity: PolicyIdentity): string;
}

const ON_NODE: ReadonlySet<PolicyOutcome['state']> = new Set(['applied', 'partial', 'last_known_good']);

export class OutcomeReporter {
  /** origin → what was last said about it (state, object version, reasons). */
  private readonly said = new Map<string, { state: PolicyOutcome['state']; signature: string }>();

  constructor(private readonly recorder: EventRecorder, private readonly targets: OutcomeTargets, private readonly node: string) {}

  observe(outcomes: readonly PolicyOutcome[], removed: readonly PolicyIdentity[]): void {
    for (const outcome of outcomes) this.outcome(outcome);
    for (const identity of removed) this.removed(this.targets.originOf(identity));
  }

  private outcome(o: PolicyOutcome): void {
    if (o.state === 'pending') return;
    const target = this.targets.target(o.origin);
    if (!target) return;
    const signature = JSON.stringify([o.state, target.resourceVersion, o.reasons, o.problems.map(problemText)]);
    const before = this.said.get(o.origin);
    if (before?.signature === signature) return;
    this.said.set(o.origin, { state: o.state, signature });
    const event = o.state === 'not_selected'
      ? (before && ON_NODE.has(before.state) ? this.removal(`no longer selects node ${this.node}: ${o.reasons.join('; ')}`) : undefined)
      : this.describe(o, target.generation === undefined ? this.node : `${this.node} (generation ${target.generation})`);
    if (event) this.recorder.record(target, event);
  }

  private removed(origin: string): void {
    const before = this.said.get(origin);
    this.said.delete(origin);
    const target = this.targets.target(origin);
    if (before && ON_NODE.has(before.state) && target) this.recorder.record(target, this.removal(`removed from node ${this.node}`));
  }

  private removal(note: string): EventRecord {
    return { type: 'Normal', reason: 'PolicyRemoved', action: 'Remove', note };
  }

  /** `node` names the node and the object generation: a new spec's outcome is a new Event, not a repeat. */
  private describe(o: PolicyOutcome, node: string): EventRecord | undefined {
    switch (o.state) {
      case 'applied':
        return { type: 'Normal', reason: 'PolicyApplied', action: 'Apply', note: `applied on node ${node}: ${o.ruleCount} rule(s)` };
      case 'partial':
        return { type: 'Warning', reason: 'PolicyPartiallyApplied', action: 'Apply', note: `partially applied on node ${node} (${o.ruleCount} rule(s)): ${o.reasons.join('; ')}` };
      case 'invalid':
        return { type: 'Warning', reason: 'PolicyInvalid', action: 'Validate', note: `rejected on node ${node}: ${o.problems.map(problemText).join('; ')}` };
      case 'last_known_good':
        return {
          type: 'Warning', reason: 'PolicyInvalid', action: 'Validate',
          note: `this version is rejected on node ${node}, the previous version stays in force: ${o.problems.map(problemText).join('; ')}`,
        };
      case 'not_enforced':
        return { type: 'Normal', reason: 'PolicyNotEnforced', action: 'Apply', note: `not enforced on node ${node}: ${o.reasons.join('; ')}` };
      default:
        return undefined;
    }
  }
}

function problemText(p: Problem): string {
  return `${p.path ? `${p.path}: ` : ''}${p.message}`;
}
