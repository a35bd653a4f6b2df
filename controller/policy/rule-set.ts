/**
 * RuleSetBuilder: the merged set of driver rules of all enforced policies, kept up to
 * date one policy at a time. Each rule id counts the policies that contribute it, so
 * setting or deleting one policy costs O(its rules); identical rules from several
 * policies are one driver rule whose provenance names them all.
 */
import type { DriverRule, PathMatch } from '../../driver/abi/types.js';
import { actionName, type ProvenanceLookup, type RuleOrigin, type RuleProvenance } from './provenance.js';
import type { CompiledPolicy, CompiledRule } from './compiler.js';
import { RuleIdCollisionError } from './errors.js';

/** Ids that entered or left the merged set with one change. */
export interface RuleSetChange {
  added: bigint[];
  removed: bigint[];
}

/**
 * Contributors of one rule id: most rules have one, held in `key` and `rule` (no array or
 * Map per rule: at 100k rules those were megabytes); `all` by policy key once there are two.
 */
interface Entry {
  key?: string;
  rule?: CompiledRule;
  all?: Map<string, CompiledRule>;
  provenance?: RuleProvenance;
}


export class RuleSetBuilder implements ProvenanceLookup {
  private readonly policies = new Map<string, readonly CompiledRule[]>();
  private readonly entries = new Map<bigint, Entry>();
  private readonly merged = new Map<bigint, DriverRule>();

  /** The policy's rules are now `compiled.rules` (replacing what it contributed before). */
  set(key: string, compiled: Pick<CompiledPolicy, 'rules'>): RuleSetChange {
    const previous = this.policies.get(key);
    if (previous === compiled.rules) return { added: [], removed: [] };
    this.checkCollisions(compiled.rules);
    const change: RuleSetChange = { added: [], removed: [] };
    const touched = new Set<bigint>();
    if (previous) for (const rule of previous) this.withdraw(key, rule, touched);
    for (const rule of compiled.rules) {
      const entry = this.entries.get(rule.id);
      if (entry) {
        this.contribute(entry, key, rule);
        touched.add(rule.id);
        continue;
      }
      // An id no policy had: this rule is the merged one, nothing to settle (most rules of a cold start).
      this.entries.set(rule.id, { key, rule });
      this.merged.set(rule.id, rule);
      change.added.push(rule.id);
    }
    if (compiled.rules.length > 0) this.policies.set(key, compiled.rules);
    else this.policies.delete(key);
    this.settle(touched, change);
    return change;
  }

  delete(key: string): RuleSetChange {
    return this.set(key, { rules: [] });
  }

  has(key: string): boolean {
    return this.policies.has(key);
  }

  /** The merged rules by id: what the driver should hold. */
  rules(): ReadonlyMap<bigint, DriverRule> {
    return this.merged;
  }

  lookup(ruleId: bigint): RuleProvenance | undefined {
    const entry = this.entries.get(ruleId);
    if (!entry || (!entry.rule && !entry.all)) return undefined;
    entry.provenance ??= provenanceOf(ruleId, contributors(entry));
    return entry.provenance;
  }

  private checkCollisions(rules: readonly CompiledRule[]): void {
    for (const rule of rules) {
      const entry = this.entries.get(rule.id);
      if (!entry) continue;
      // Any one contributor stands for all (they are equal up to path case); no array per rule.
      const other = entry.rule ?? (entry.all ? entry.all.values().next().value : undefined);
      if (other && !sameRuleIgnoringPathCase(other, rule)) throw new RuleIdCollisionError(rule.id, describe(other), describe(rule));
    }
  }

  private withdraw(key: string, rule: CompiledRule, touched: Set<bigint>): void {
    const entry = this.entries.get(rule.id);
    if (!entry) return;
    if (entry.all) {
      entry.all.delete(key);
      if (entry.all.size === 1) {
        [[entry.key, entry.rule]] = entry.all;
        entry.all = undefined;
      }
    } else if (entry.key === key) {
      entry.key = undefined;
      entry.rule = undefined;
    }
    touched.add(rule.id);
  }

  private contribute(entry: Entry, key: string, rule: CompiledRule): void {
    if (entry.all) {
      entry.all.set(key, rule);
    } else if (!entry.rule || entry.key === key) {
      entry.key = key;
      entry.rule = rule;
    } else {
      entry.all = new Map([[entry.key!, entry.rule], [key, rule]]);
      entry.key = undefined;
      entry.rule = undefined;
    }
  }

  private settle(touched: Set<bigint>, change: RuleSetChange): void {
    for (const id of touched) {
      const entry = this.entries.get(id)!;
      const rules = contributors(entry);
      const had = this.merged.has(id);
      entry.provenance = undefined;
      if (rules.length === 0) {
        this.entries.delete(id);
        this.merged.delete(id);
        if (had) change.removed.push(id);
        continue;
      }
      this.merged.set(id, representative(rules));
      if (!had) change.added.push(id);
    }
  }
}

function contributors(entry: Entry): CompiledRule[] {
  if (entry.all) return [...entry.all.values()];
  return entry.rule ? [entry.rule] : [];
}

const pathKey = (m: PathMatch | undefined): string => (m ? `${m.match}|${m.path.toUpperCase()}` : '');
// Contributors of one id differ at most in path case (case-folded on Windows).
const sameRuleIgnoringPathCase = (a: DriverRule, b: DriverRule): boolean =>
  a.kind === b.kind && a.action === b.action && a.flags === b.flags && pathKey(a.target) === pathKey(b.target) && pathKey(a.source) === pathKey(b.source);
const describe = (r: DriverRule): string => `${r.kind}|${r.action}|${r.flags}|${pathKey(r.target)}|${pathKey(r.source)}`;

/**
 * One driver rule for all contributors: the smallest spelling wins, whatever the order.
 * A rule with one contributor is that compiled rule itself (no copy per rule).
 */
function representative(rules: CompiledRule[]): DriverRule {
  if (rules.length === 1) return rules[0]!;
  let best = rules[0]!;
  for (const rule of rules) {
    if (rule.target.path < best.target.path || (rule.target.path === best.target.path && (rule.source?.path ?? '') < (best.source?.path ?? ''))) best = rule;
  }
  const { id, kind, action, flags, target, source } = best;
  return source ? { id, kind, action, flags, target, source } : { id, kind, action, flags, target };
}

function provenanceOf(ruleId: bigint, rules: CompiledRule[]): RuleProvenance {
  const origins: RuleOrigin[] = rules.map((r) => r.origin);
  origins.sort((a, b) => b.severity - a.severity || a.policy.localeCompare(b.policy) || (a.namespace ?? '').localeCompare(b.namespace ?? ''));
  return { ruleId, action: actionName(rules[0]!.action), origins };
}
