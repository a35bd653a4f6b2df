/**
 * RuleSetBuilder: the merged set of driver rules of all enforced policies, kept up to
 * date one policy at a time. Each rule id counts the policies that contribute it, so
 * setting or deleting one policy costs O(its rules); identical rules from several
 * policies are one driver rule whose provenance names them all.
 */
import type { DriverRule } from '../../driver/abi/types.js';
import type { ActionName, ProvenanceLookup, RuleOrigin, RuleProvenance } from './provenance.js';
import type { CompiledPolicy, CompiledRule } from './compiler.js';
import { RuleIdCollisionError } from './errors.js';

/** Ids that entered or left the merged set with one change. */
export interface RuleSetChange {
  added: bigint[];
  removed: bigint[];
}

interface Entry {
  contributors: Map<string, CompiledRule>;
  provenance?: RuleProvenance;
}

const ACTION_NAMES: Record<number, ActionName> = { 1: 'Allow', 2: 'Audit', 3: 'Block' };

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
    for (const rule of compiled.rules) this.contribute(key, rule, touched);
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
    if (!entry) return undefined;
    entry.provenance ??= provenanceOf(ruleId, entry);
    return entry.provenance;
  }

  private checkCollisions(rules: readonly CompiledRule[]): void {
    for (const rule of rules) {
      const entry = this.entries.get(rule.id);
      const other = entry?.contributors.values().next().value;
      if (other && other.canonical !== rule.canonical) throw new RuleIdCollisionError(rule.id, other.canonical, rule.canonical);
    }
  }

  private withdraw(key: string, rule: CompiledRule, touched: Set<bigint>): void {
    this.entries.get(rule.id)?.contributors.delete(key);
    touched.add(rule.id);
  }

  private contribute(key: string, rule: CompiledRule, touched: Set<bigint>): void {
    let entry = this.entries.get(rule.id);
    if (!entry) this.entries.set(rule.id, (entry = { contributors: new Map() }));
    entry.contributors.set(key, rule);
    touched.add(rule.id);
  }

  private settle(touched: Set<bigint>, change: RuleSetChange): void {
    for (const id of touched) {
      const entry = this.entries.get(id)!;
      const had = this.merged.has(id);
      entry.provenance = undefined;
      if (entry.contributors.size === 0) {
        this.entries.delete(id);
        this.merged.delete(id);
        if (had) change.removed.push(id);
        continue;
      }
      this.merged.set(id, representative(entry));
      if (!had) change.added.push(id);
    }
  }
}

/** One driver rule for all contributors: they differ at most in path case; the smallest spelling wins, whatever the order. */
function representative(entry: Entry): DriverRule {
  let best: CompiledRule | undefined;
  for (const rule of entry.contributors.values()) {
    if (!best || rule.target.path < best.target.path || (rule.target.path === best.target.path && (rule.source?.path ?? '') < (best.source?.path ?? ''))) best = rule;
  }
  const { id, kind, action, flags, target, source } = best!;
  return source ? { id, kind, action, flags, target, source } : { id, kind, action, flags, target };
}

function provenanceOf(ruleId: bigint, entry: Entry): RuleProvenance {
  const origins: RuleOrigin[] = [...entry.contributors.values()].map((r) => r.origin);
  origins.sort((a, b) => b.severity - a.severity || a.policy.localeCompare(b.policy) || (a.namespace ?? '').localeCompare(b.namespace ?? ''));
  const action = ACTION_NAMES[entry.contributors.values().next().value!.action]!;
  return { ruleId, action, origins };
}
