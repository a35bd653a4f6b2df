/**
 * Alert enrichment from the compiler's provenance: which policy a driver rule came from
 * (PolicyName, Severity, Tags, ATags, Message, Action). Derived text is cached per
 * provenance object, so a rule that fires a million times joins its tags once, and a
 * recompiled rule (a new provenance object) is seen at once.
 */
import { Decision } from '../../driver/abi/types.js';
import type { ActionName, ProvenanceLookup, RuleProvenance } from '../policy/provenance.js';

export interface Enrichment {
  policyName: string;
  severity: string;
  tags: string;
  atags: string[];
  message: string;
  action: ActionName;
}

export const DEFAULT_POSTURE_POLICY = 'DefaultPosture';

const decisionAction = (decision: Decision): ActionName => {
  switch (decision) {
    case Decision.Block:
    case Decision.PostureBlock:
      return 'Block';
    case Decision.Audit:
    case Decision.PostureAudit:
      return 'Audit';
    default:
      return 'Allow';
  }
};

const bare = (action: ActionName, policyName: string): Enrichment =>
  ({ policyName, severity: '', tags: '', atags: [], message: '', action });

const POSTURE_AUDIT = bare('Audit', DEFAULT_POSTURE_POLICY);
const POSTURE_BLOCK = bare('Block', DEFAULT_POSTURE_POLICY);

function fromProvenance(p: RuleProvenance): Enrichment {
  const first = p.origins[0];
  if (!first) return bare(p.action, '');
  return {
    policyName: first.policy,
    severity: first.severity === 0 ? '' : String(first.severity),
    tags: first.tags.join(','),
    atags: first.tags,
    message: first.message,
    action: p.action,
  };
}

export class Enricher {
  private readonly cache = new WeakMap<RuleProvenance, Enrichment>();
  /** Matched events whose rule id the provenance did not know (read by the metrics flush). */
  unknownRules = 0;

  constructor(private readonly provenance: ProvenanceLookup) {}

  /** Enrichment for a reported decision (posture decisions need no lookup). */
  enrich(decision: Decision, ruleId: bigint): Enrichment {
    if (decision === Decision.PostureAudit) return POSTURE_AUDIT;
    if (decision === Decision.PostureBlock) return POSTURE_BLOCK;
    const p = ruleId === 0n ? undefined : this.provenance.lookup(ruleId);
    if (!p) {
      // A rule the compiler no longer (or not yet) knows: keep what the driver decided.
      this.unknownRules++;
      return bare(decisionAction(decision), '');
    }
    let e = this.cache.get(p);
    if (!e) {
      e = fromProvenance(p);
      this.cache.set(p, e);
    }
    return e;
  }
}
