/**
 * Delta tracking between the desired rule table and the driver's actual one (the Felix
 * pattern): cheap updates only record what became dirty; `plan()` turns the dirty ids
 * into one transaction; a full read-back replaces the actual side and recomputes.
 */
import type { DriverRule, PathMatch } from '../../driver/abi/types.js';

export interface RulePlan {
  add: DriverRule[];
  remove: bigint[];
}

const samePath = (a: PathMatch | undefined, b: PathMatch | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.path === b.path && a.match === b.match);

export function sameRule(a: DriverRule, b: DriverRule): boolean {
  return a.id === b.id && a.kind === b.kind && a.action === b.action && a.flags === b.flags &&
    samePath(a.target, b.target) && samePath(a.source, b.source);
}

export class RuleDelta {
  private readonly desired = new Map<bigint, DriverRule>();
  private actual = new Map<bigint, DriverRule>();
  private readonly dirty = new Set<bigint>();

  get desiredCount(): number { return this.desired.size; }
  get actualCount(): number { return this.actual.size; }
  get inSync(): boolean { return this.dirty.size === 0; }
  get pending(): number { return this.dirty.size; }

  setDesired(rule: DriverRule): void {
    this.desired.set(rule.id, rule);
    this.markIfDiffers(rule.id);
  }

  deleteDesired(id: bigint): void {
    if (this.desired.delete(id)) this.markIfDiffers(id);
  }

  desiredRules(): IterableIterator<DriverRule> { return this.desired.values(); }

  /**
   * The driver's table as read back. Returns how many ids differ from what this tracker
   * believed was there (drift, when the caller believed it was in sync).
   */
  replaceActual(rules: Iterable<DriverRule>): number {
    const previous = this.actual;
    this.actual = new Map();
    for (const rule of rules) this.actual.set(rule.id, rule);
    let drift = 0;
    for (const [id, rule] of this.actual) {
      const before = previous.get(id);
      if (!before || !sameRule(before, rule)) drift++;
    }
    for (const id of previous.keys()) if (!this.actual.has(id)) drift++;
    this.recomputeAll();
    return drift;
  }

  /** Forget the actual side entirely (driver reloaded or never read). */
  clearActual(): void {
    this.actual.clear();
    this.recomputeAll();
  }

  plan(): RulePlan {
    const add: DriverRule[] = [];
    const remove: bigint[] = [];
    for (const id of this.dirty) {
      const want = this.desired.get(id);
      const have = this.actual.get(id);
      if (want) add.push(want);
      else if (have) remove.push(id);
    }
    return { add, remove };
  }

  /** The plan landed in the driver: the actual side now holds it. */
  committed(plan: RulePlan): void {
    for (const id of plan.remove) {
      this.actual.delete(id);
      this.markIfDiffers(id);
    }
    for (const rule of plan.add) {
      this.actual.set(rule.id, rule);
      this.markIfDiffers(rule.id);
    }
  }

  private recomputeAll(): void {
    this.dirty.clear();
    for (const id of this.desired.keys()) this.markIfDiffers(id);
    for (const id of this.actual.keys()) if (!this.desired.has(id)) this.dirty.add(id);
  }

  private markIfDiffers(id: bigint): void {
    const want = this.desired.get(id);
    const have = this.actual.get(id);
    const equal = want && have ? sameRule(want, have) : want === have;
    if (equal) this.dirty.delete(id);
    else this.dirty.add(id);
  }
}
