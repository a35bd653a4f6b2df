/**
 * Delta tracking between the desired rule table and the driver's actual one (the Felix
 * pattern): cheap updates only record what became dirty; `plan()` turns the dirty ids
 * into one transaction; a full read-back replaces the actual side and recomputes.
 *
 * Only the differences are stored: `mismatch` maps each id where the driver differs from
 * the desired set to what the driver holds there (undefined: nothing). Everywhere else
 * the driver holds exactly the desired rule. A read-back (ascending ids, as LIST_RULES
 * returns them) is merged with the desired rules sorted by id, so an idle resync of a
 * large table costs one linear pass and no hashing.
 */
import type { DriverRule, PathMatch } from '../../driver/abi/types.js';

export interface RulePlan {
  add: DriverRule[];
  remove: bigint[];
}

const samePath = (a: PathMatch | undefined, b: PathMatch | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && a.path === b.path && a.match === b.match);

export function sameRule(a: DriverRule, b: DriverRule): boolean {
  if (a === b) return true;
  return a.id === b.id && a.kind === b.kind && a.action === b.action && a.flags === b.flags &&
    samePath(a.target, b.target) && samePath(a.source, b.source);
}

const same = (a: DriverRule | undefined, b: DriverRule | undefined): boolean =>
  a === b || (a !== undefined && b !== undefined && sameRule(a, b));

const byId = (a: DriverRule, b: DriverRule): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

function ascending(rules: readonly DriverRule[]): boolean {
  for (let k = 1; k < rules.length; k++) if (rules[k - 1]!.id >= rules[k]!.id) return false;
  return true;
}

/** One linear pass over two id-sorted lists: where they differ, what the driver holds. */
function mergeMismatches(want: readonly DriverRule[], have: readonly DriverRule[]): Map<bigint, DriverRule | undefined> {
  const next = new Map<bigint, DriverRule | undefined>();
  let i = 0;
  let j = 0;
  while (i < want.length && j < have.length) {
    const w = want[i]!;
    const a = have[j]!;
    if (a.id < w.id) {
      next.set(a.id, a);
      j++;
    } else if (w.id < a.id) {
      next.set(w.id, undefined);
      i++;
    } else {
      if (!sameRule(w, a)) next.set(a.id, a);
      i++;
      j++;
    }
  }
  for (; i < want.length; i++) next.set(want[i]!.id, undefined);
  for (; j < have.length; j++) next.set(have[j]!.id, have[j]);
  return next;
}

export class RuleDelta {
  private readonly desired = new Map<bigint, DriverRule>();
  /** Ids where the driver differs from `desired` → what the driver holds (undefined: absent). */
  private mismatch = new Map<bigint, DriverRule | undefined>();
  private sorted: DriverRule[] | undefined;

  get inSync(): boolean { return this.mismatch.size === 0; }

  /** Rules in the driver, as far as this tracker knows. */
  get actualCount(): number {
    let count = this.desired.size;
    for (const [id, held] of this.mismatch) {
      const wanted = this.desired.has(id);
      if (wanted && held === undefined) count--;
      else if (!wanted && held !== undefined) count++;
    }
    return count;
  }

  setDesired(rule: DriverRule): void {
    const held = this.actualOf(rule.id);
    this.desired.set(rule.id, rule);
    this.sorted = undefined;
    this.track(rule.id, rule, held);
  }

  deleteDesired(id: bigint): void {
    if (!this.desired.has(id)) return;
    const held = this.actualOf(id);
    this.desired.delete(id);
    this.sorted = undefined;
    this.track(id, undefined, held);
  }

  /**
   * The driver's table as read back, in ascending id order. With `countDrift`, returns how
   * many ids differ from what this tracker believed was there (drift, when the caller
   * believed it was in sync); else 0, and the comparison is skipped.
   */
  replaceActual(listed: readonly DriverRule[], countDrift = true): number {
    const previous = this.mismatch;
    if (listed.length === 0) {
      this.clearActual();
      return countDrift ? this.drift(previous, this.mismatch) : 0;
    }
    // LIST_RULES returns ascending ids; anything else (a driver bug) is sorted, not misread.
    const next = mergeMismatches(this.desiredSorted(), ascending(listed) ? listed : [...listed].sort(byId));
    this.mismatch = next;
    return countDrift ? this.drift(previous, next) : 0;
  }

  /** Forget the actual side entirely (driver reloaded or never read): nothing is believed there. */
  clearActual(): void {
    // Entries held as "absent" are always desired ids: if every desired id is one, nothing to do.
    if (this.mismatch.size === this.desired.size && [...this.mismatch.values()].every((held) => held === undefined)) return;
    this.mismatch = new Map();
    for (const id of this.desired.keys()) this.mismatch.set(id, undefined);
  }

  plan(): RulePlan {
    const add: DriverRule[] = [];
    const remove: bigint[] = [];
    for (const id of this.mismatch.keys()) {
      const want = this.desired.get(id);
      if (want) add.push(want);
      else remove.push(id);
    }
    return { add, remove };
  }

  /** The plan landed in the driver: the actual side now holds it. */
  committed(plan: RulePlan): void {
    for (const id of plan.remove) this.track(id, this.desired.get(id), undefined);
    for (const rule of plan.add) this.track(rule.id, this.desired.get(rule.id), rule);
  }

  private actualOf(id: bigint): DriverRule | undefined {
    return this.mismatch.has(id) ? this.mismatch.get(id) : this.desired.get(id);
  }

  private track(id: bigint, wanted: DriverRule | undefined, held: DriverRule | undefined): void {
    if (same(wanted, held)) this.mismatch.delete(id);
    else this.mismatch.set(id, held);
  }

  private desiredSorted(): DriverRule[] {
    this.sorted ??= [...this.desired.values()].sort(byId);
    return this.sorted;
  }

  /** Ids whose actual rule differs between the old belief and the new read-back. */
  private drift(previous: Map<bigint, DriverRule | undefined>, next: Map<bigint, DriverRule | undefined>): number {
    let drift = 0;
    for (const [id, held] of next) {
      const believed = previous.has(id) ? previous.get(id) : this.desired.get(id);
      if (!same(believed, held)) drift++;
    }
    for (const [id, believed] of previous) {
      if (!next.has(id) && !same(believed, this.desired.get(id))) drift++;
    }
    return drift;
  }
}
