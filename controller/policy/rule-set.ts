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
 * Two or more policies contribute one rule id: their rules (equal up to path case), and
 * the one driver rule that stands for them. An id with one contributor is held as that
 * compiled rule itself: no object, array or Map per rule (at 100k rules those were megabytes).
 */
class Shared {
  constructor(readonly all: CompiledRule[], public merged: DriverRule) {}
}

type Contributors = CompiledRule | Shared;

const mergedOf = (entry: Contributors | undefined): DriverRule | undefined => (entry instanceof Shared ? entry.merged : entry);

/** The merged rules by id, read from the contributors (no second Map of 100k entries). */
class MergedRules implements ReadonlyMap<bigint, DriverRule> {
  constructor(private readonly byId: ReadonlyMap<bigint, Contributors>) {}
  get size(): number { return this.byId.size; }
  get(id: bigint): DriverRule | undefined { return mergedOf(this.byId.get(id)); }
  has(id: bigint): boolean { return this.byId.has(id); }
  keys(): MapIterator<bigint> { return this.byId.keys(); }
  * values(): MapIterator<DriverRule> { for (const entry of this.byId.values()) yield mergedOf(entry)!; }
  * entries(): MapIterator<[bigint, DriverRule]> { for (const [id, entry] of this.byId) yield [id, mergedOf(entry)!]; }
  [Symbol.iterator](): MapIterator<[bigint, DriverRule]> { return this.entries(); }
  forEach(each: (rule: DriverRule, id: bigint, map: ReadonlyMap<bigint, DriverRule>) => void): void {
    for (const [id, entry] of this.byId) each(mergedOf(entry)!, id, this);
  }
}

export class RuleSetBuilder implements ProvenanceLookup {
  private readonly policies = new Map<string, readonly CompiledRule[]>();
  private readonly entries = new Map<bigint, Contributors>();
  private readonly merged = new MergedRules(this.entries);
  /** Provenance of the rules that were looked up (alerts): built on first use, dropped when the id changes. */
  private readonly provenances = new Map<bigint, RuleProvenance>();

  /** The policy's rules are now `compiled.rules` (replacing what it contributed before). */
  set(key: string, compiled: Pick<CompiledPolicy, 'rules'>): RuleSetChange {
    const previous = this.policies.get(key);
    if (previous === compiled.rules) return { added: [], removed: [] };
    const rules = compiled.rules;
    // Each id's entry is looked up once (a cold start merges 100k rules): here, then reused below.
    const found = this.checkCollisions(rules);
    const change: RuleSetChange = { added: [], removed: [] };
    /** Ids this change touches → the merged rule before it (undefined: none). */
    const touched = new Map<bigint, DriverRule | undefined>();
    if (previous) for (const rule of previous) this.withdraw(rule, touched);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      // A withdrawal above may have changed the entry found before it.
      const entry = touched.size > 0 && touched.has(rule.id) ? this.entries.get(rule.id) : found[i];
      if (entry === undefined && !touched.has(rule.id)) {
        // An id no policy had: this rule is the merged one, nothing to settle (most rules of a cold start).
        const size = this.entries.size;
        this.entries.set(rule.id, rule);
        if (this.entries.size > size) change.added.push(rule.id);
        else this.sameIdTwice(rules, i);
        continue;
      }
      this.contribute(entry, rule, touched);
    }
    if (rules.length > 0) this.policies.set(key, rules);
    else this.policies.delete(key);
    this.settle(touched, change);
    return change;
  }

  /**
   * `rules[at]` has the id of an earlier rule of the same policy, which the loop above had
   * entered as new (the compiler never makes two rules of one id, but the set stays right
   * if given them): all of them contribute, as rules of several policies would.
   */
  private sameIdTwice(rules: readonly CompiledRule[], at: number): void {
    const id = rules[at]!.id;
    const all = rules.filter((r, i) => i <= at && r.id === id);
    this.entries.set(id, new Shared(all, representative(all)));
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
    const cached = this.provenances.get(ruleId);
    if (cached) return cached;
    const entry = this.entries.get(ruleId);
    if (!entry) return undefined;
    const provenance = provenanceOf(ruleId, entry instanceof Shared ? entry.all : [entry]);
    this.provenances.set(ruleId, provenance);
    return provenance;
  }

  /** The entry of each rule's id (undefined: none), after checking that each is the same rule up to path case. */
  private checkCollisions(rules: readonly CompiledRule[]): (Contributors | undefined)[] {
    const found = new Array<Contributors | undefined>(rules.length);
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i]!;
      const entry = this.entries.get(rule.id);
      found[i] = entry;
      if (!entry) continue;
      // Any one contributor stands for all (they are equal up to path case).
      const other = entry instanceof Shared ? entry.all[0]! : entry;
      if (!sameRuleIgnoringPathCase(other, rule)) throw new RuleIdCollisionError(rule.id, describe(other), describe(rule));
    }
    return found;
  }

  /** A policy's earlier rule leaves (found by identity: each policy's rules are its own objects). */
  private withdraw(rule: CompiledRule, touched: Map<bigint, DriverRule | undefined>): void {
    const entry = this.entries.get(rule.id);
    if (!entry) return;
    if (!touched.has(rule.id)) touched.set(rule.id, mergedOf(entry));
    if (entry instanceof Shared) {
      const at = entry.all.indexOf(rule);
      if (at >= 0) entry.all.splice(at, 1);
    } else if (entry === rule) {
      this.entries.delete(rule.id);
    }
  }

  private contribute(entry: Contributors | undefined, rule: CompiledRule, touched: Map<bigint, DriverRule | undefined>): void {
    if (!touched.has(rule.id)) touched.set(rule.id, mergedOf(entry));
    if (entry === undefined) this.entries.set(rule.id, rule);
    else if (entry instanceof Shared) entry.all.push(rule);
    else this.entries.set(rule.id, new Shared([entry, rule], entry));
  }

  /** The touched ids' merged rules settle; those that entered or left are the change. */
  private settle(touched: Map<bigint, DriverRule | undefined>, change: RuleSetChange): void {
    for (const [id, had] of touched) {
      this.provenances.delete(id);
      const entry = this.entries.get(id);
      if (entry instanceof Shared) {
        if (entry.all.length === 0) this.entries.delete(id);
        else if (entry.all.length === 1) this.entries.set(id, entry.all[0]!);
        else entry.merged = representative(entry.all);
      }
      const now = this.entries.has(id);
      if (had && !now) change.removed.push(id);
      else if (!had && now) change.added.push(id);
    }
  }
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
function representative(rules: readonly CompiledRule[]): DriverRule {
  if (rules.length === 1) return rules[0]!;
  let best = rules[0]!;
  for (const rule of rules) {
    if (rule.target.path < best.target.path || (rule.target.path === best.target.path && (rule.source?.path ?? '') < (best.source?.path ?? ''))) best = rule;
  }
  const { id, kind, action, flags, target, source } = best;
  return source ? { id, kind, action, flags, target, source } : { id, kind, action, flags, target };
}

function provenanceOf(ruleId: bigint, rules: readonly CompiledRule[]): RuleProvenance {
  const origins: RuleOrigin[] = rules.map((r) => r.origin);
  origins.sort((a, b) => b.severity - a.severity || a.policy.localeCompare(b.policy) || (a.namespace ?? '').localeCompare(b.namespace ?? ''));
  return { ruleId, action: actionName(rules[0]!.action), origins };
}
