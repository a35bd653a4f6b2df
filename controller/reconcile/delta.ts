/**
 * Delta tracking between the desired rule table and the driver's actual one (the Felix
 * pattern): cheap updates only record what became dirty; `plan()` turns the dirty ids
 * into one transaction; a full read-back replaces the actual side and recomputes.
 *
 * Only the differences are stored: `mismatch` maps each id where the driver differs from
 * the desired set to what the driver holds there (undefined: nothing). Everywhere else
 * the driver holds exactly the desired rule. A read-back (ascending ids, as LIST_RULES
 * returns them, kept as the driver's bytes) is merged with the desired rules sorted by id
 * (a lookup per rule in a Map keyed by BigInt costs several times more), comparing each
 * record in place, so an idle resync of a large table costs one linear pass and decodes
 * only what differs; the sorted list is kept, and patched rather than sorted again after
 * a change.
 *
 * The walks over the whole table (merge, plan, commit) are async and yield between slices
 * (../clock/slicer.ts). Desired changes may arrive meanwhile: a walk that builds a new actual
 * side notes the ids changed during it and settles them at the end.
 *
 * A driver believed empty (a first start, a reloaded driver, an empty read-back) is one
 * flag, not an entry per desired id: a cold start's rules are only put in `desired`, its
 * plan is the whole desired side, and its commit costs only the ids changed while the
 * APPLY was in flight.
 */
import type { DriverRule, PathMatch } from '../../driver/abi/types.js';
import { asIs, type PathMapping, type PathParts } from '../../driver/abi/codec.js';
import type { PathTranslator } from '../../driver/client/types.js';
import { RuleRecords } from '../../driver/abi/rule-records.js';
import { Slicer } from '../clock/index.js';

export interface RulePlan {
  add: DriverRule[];
  remove: bigint[];
}

const samePath = (a: PathMatch | undefined, b: PathMatch | undefined, map: PathMapping): boolean =>
  a === b || (a !== undefined && b !== undefined && a.match === b.match && (a.path === b.path || map(a.path) === map(b.path)));

/**
 * The same rule in the driver: paths compared in the driver's form (`map`: DOS → NT; it
 * leaves a path already in the driver's form as it is, so either side may be in either).
 */
export function sameRule(a: DriverRule, b: DriverRule, map: PathMapping = asIs): boolean {
  if (a === b) return true;
  return a.id === b.id && a.kind === b.kind && a.action === b.action && a.flags === b.flags &&
    samePath(a.target, b.target, map) && samePath(a.source, b.source, map);
}

const same = (a: DriverRule | undefined, b: DriverRule | undefined, map: PathMapping): boolean =>
  a === b || (a !== undefined && b !== undefined && sameRule(a, b, map));

const byId = (a: DriverRule, b: DriverRule): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * One linear pass over the desired rules and the listed records (both by ascending id):
 * where they differ, what the driver holds. A record equal to the desired rule is
 * compared in place and never decoded; only differing records become objects.
 */
async function mergeMismatches(want: readonly DriverRule[], have: RuleRecords, parts: PathParts | undefined): Promise<Map<bigint, DriverRule | undefined>> {
  const next = new Map<bigint, DriverRule | undefined>();
  const slicer = new Slicer();
  let i = 0;
  let j = 0;
  while (i < want.length && j < have.length) {
    const w = want[i]!;
    // In sync (the usual case): same id, same rule; compared in place.
    if (have.matches(j, w, parts)) {
      i++;
      j++;
    } else {
      const id = have.id(j);
      if (id < w.id) {
        next.set(id, have.rule(j));
        j++;
      } else if (w.id < id) {
        next.set(w.id, undefined);
        i++;
      } else {
        next.set(id, have.rule(j));
        i++;
        j++;
      }
    }
    if (slicer.due()) await slicer.yield();
  }
  for (; i < want.length; i++) next.set(want[i]!.id, undefined);
  for (; j < have.length; j++) next.set(have.id(j), have.rule(j));
  return next;
}

/**
 * The rules of `rules` sorted by id, in slices: the ids are bucketed by their top byte
 * (rule ids are hashes, so the 256 buckets are even), each bucket sorted natively in a
 * BigUint64Array (a comparator over BigInts took ~10 times longer, and one native sort of
 * 100k ids was a 10–20 ms turn), then the rules looked up. An id deleted meanwhile is
 * skipped (the caller patches the changes made meanwhile in).
 */
async function sortedById(rules: ReadonlyMap<bigint, DriverRule>): Promise<DriverRule[]> {
  const slicer = new Slicer();
  const keys = [...rules.keys()];
  const n = keys.length;
  const bucketOf = new Uint8Array(n);
  const starts = new Uint32Array(257);
  for (let i = 0; i < n; i++) {
    const bucket = Number(keys[i]! >> 56n);
    bucketOf[i] = bucket;
    starts[bucket + 1]!++;
    if (slicer.due()) await slicer.yield();
  }
  for (let b = 0; b < 256; b++) starts[b + 1]! += starts[b]!;
  const ids = new BigUint64Array(n);
  const next = starts.slice(0, 256);
  for (let i = 0; i < n; i++) {
    ids[next[bucketOf[i]!]!++] = keys[i]!;
    if (slicer.due()) await slicer.yield();
  }
  for (let b = 0; b < 256; b++) {
    if (starts[b + 1]! - starts[b]! > 1) ids.subarray(starts[b], starts[b + 1]).sort();
    if (slicer.due()) await slicer.yield();
  }
  const out: DriverRule[] = [];
  for (let i = 0; i < n; i++) {
    const rule = rules.get(ids[i]!);
    if (rule) out.push(rule);
    if (slicer.due()) await slicer.yield();
  }
  return out;
}

/**
 * `sorted` with `changes` applied (id → its new rule, undefined: deleted), as one linear
 * merge in slices: after one changed policy the desired side is not sorted again whole.
 */
async function patchSorted(sorted: readonly DriverRule[], changes: ReadonlyMap<bigint, DriverRule | undefined>): Promise<DriverRule[]> {
  const added = [...changes.values()].filter((r): r is DriverRule => r !== undefined).sort(byId);
  const out: DriverRule[] = [];
  const slicer = new Slicer();
  let k = 0;
  for (const rule of sorted) {
    while (k < added.length && added[k]!.id < rule.id) out.push(added[k++]!);
    if (!changes.has(rule.id)) out.push(rule);
    if (slicer.due()) await slicer.yield();
  }
  while (k < added.length) out.push(added[k++]!);
  return out;
}

/** The actual side as believed before a read-back replaces it. */
interface Belief { empty: boolean; mismatch: Map<bigint, DriverRule | undefined> }

export class RuleDelta {
  /**
   * The desired rules by id, in the policy's form (DOS paths: the compiler's own rule
   * objects, no copy per rule); compared with what the driver holds in its form through
   * `paths` (the connected driver's translator).
   */
  private readonly desired = new Map<bigint, DriverRule>();
  private mapping: { paths: PathTranslator | undefined; map: PathMapping; parts: PathParts | undefined } = { paths: undefined, map: asIs, parts: undefined };
  /**
   * The driver is believed to hold nothing: every desired id is missing there, and
   * `mismatch` is empty (not one "absent" entry per desired id).
   */
  private actualEmpty = true;
  /** Ids where the driver differs from `desired` → what the driver holds (undefined: absent); unused while `actualEmpty`. */
  private mismatch = new Map<bigint, DriverRule | undefined>();
  /**
   * The last plan made while the driver was believed empty (the whole desired side), and
   * for each id changed since, the rule that plan holds for it (undefined: none): its
   * commit settles only those ids.
   */
  private fromEmpty: { plan: RulePlan; changed: Map<bigint, DriverRule | undefined> } | undefined;
  /** The desired rules by id, and the changes since it was built; undefined: sort again whole. */
  private sorted: DriverRule[] | undefined;
  private readonly sortedChanges = new Map<bigint, DriverRule | undefined>();
  private sorting = false;
  /** While a new actual side is built: the ids whose desired rule changed meanwhile. */
  private changedDuringWalk: Set<bigint> | undefined;

  constructor(private readonly paths: () => PathTranslator | undefined = () => undefined) {}

  /** DOS → the driver's form, by the connected driver's translator (as is when none). */
  private driverForm(): PathMapping {
    this.follow();
    return this.mapping.map;
  }

  /** The same, in parts (no string built per rule: a read-back's merge). */
  private driverParts(): PathParts | undefined {
    this.follow();
    return this.mapping.parts;
  }

  private follow(): void {
    const paths = this.paths();
    if (paths === this.mapping.paths) return;
    this.mapping = paths ? { paths, map: (p) => paths.toDriver(p), parts: (p) => paths.toDriverParts(p) } : { paths, map: asIs, parts: undefined };
  }

  get inSync(): boolean { return this.actualEmpty ? this.desired.size === 0 : this.mismatch.size === 0; }

  /** Nothing desired and nothing believed in the driver. */
  get empty(): boolean { return this.desired.size === 0 && (this.actualEmpty || this.mismatch.size === 0); }

  /** Rules in the driver, as far as this tracker knows. */
  get actualCount(): number {
    return this.actualEmpty ? 0 : countHeld(this.desired, this.mismatch);
  }

  setDesired(rule: DriverRule): void {
    if (this.actualEmpty) {
      this.noteFromEmpty(rule.id);
      this.desired.set(rule.id, rule);
    } else {
      const held = this.actualOf(rule.id);
      this.desired.set(rule.id, rule);
      this.track(rule.id, rule, held);
    }
    this.noteSorted(rule.id, rule);
    this.changedDuringWalk?.add(rule.id);
  }

  deleteDesired(id: bigint): void {
    if (!this.desired.has(id)) return;
    if (this.actualEmpty) {
      this.noteFromEmpty(id);
      this.desired.delete(id);
    } else {
      const held = this.actualOf(id);
      this.desired.delete(id);
      this.track(id, undefined, held);
    }
    this.noteSorted(id, undefined);
    this.changedDuringWalk?.add(id);
  }

  /**
   * The driver's table as read back, in ascending id order. With `countDrift`, returns how
   * many ids differ from what this tracker believed was there (drift, when the caller
   * believed it was in sync); else 0, and the comparison is skipped.
   */
  async replaceActual(listed: RuleRecords, countDrift = true): Promise<number> {
    const before = this.belief();
    if (listed.length === 0) {
      await this.clearActual();
      return countDrift ? this.drift(before) : 0;
    }
    // LIST_RULES returns ascending ids; anything else (a driver bug) is sorted, not misread.
    const have = listed.ascending ? listed : RuleRecords.of(listed.toArray().sort(byId));
    const next = await this.walk(async () => mergeMismatches(await this.desiredSorted(), have, this.driverParts()), (id) => {
      const at = have.indexOf(id);
      return at < 0 ? undefined : have.rule(at);
    });
    this.setActual(next);
    return countDrift ? this.drift(before) : 0;
  }

  /** Forget the actual side entirely (driver reloaded or never read): nothing is believed there. */
  async clearActual(): Promise<void> {
    this.actualEmpty = true;
    this.mismatch = new Map();
    this.fromEmpty = undefined;
  }

  /**
   * Builds a new actual side with `build`; ids whose desired rule changed meanwhile are then
   * compared with what the driver holds there (`actual`).
   */
  private async walk(build: () => Promise<Map<bigint, DriverRule | undefined>>, actual: (id: bigint) => DriverRule | undefined): Promise<Map<bigint, DriverRule | undefined>> {
    const changed = new Set<bigint>();
    this.changedDuringWalk = changed;
    let next: Map<bigint, DriverRule | undefined>;
    try {
      next = await build();
    } finally {
      this.changedDuringWalk = undefined;
    }
    for (const id of changed) {
      const held = actual(id);
      if (same(this.desired.get(id), held, this.driverForm())) next.delete(id);
      else next.set(id, held);
    }
    return next;
  }

  async plan(): Promise<RulePlan> {
    if (this.actualEmpty) {
      const plan: RulePlan = { add: [...this.desired.values()], remove: [] };
      this.fromEmpty = { plan, changed: new Map() };
      return plan;
    }
    const add: DriverRule[] = [];
    const remove: bigint[] = [];
    const slicer = new Slicer();
    for (const id of [...this.mismatch.keys()]) {
      if (!this.mismatch.has(id)) continue;
      const want = this.desired.get(id);
      if (want) add.push(want);
      else remove.push(id);
      if (slicer.due()) await slicer.yield();
    }
    return { add, remove };
  }

  /** The plan landed in the driver: the actual side now holds it. */
  async committed(plan: RulePlan): Promise<void> {
    if (this.actualEmpty) {
      const fromEmpty = this.fromEmpty;
      this.fromEmpty = undefined;
      if (fromEmpty?.plan === plan) {
        // The driver holds that plan: the desired side, but for the ids changed since.
        this.actualEmpty = false;
        this.mismatch = new Map();
        for (const [id, planned] of fromEmpty.changed) this.track(id, this.desired.get(id), planned);
        return;
      }
      // Another plan (part of one, while bisecting): one "absent" entry per desired id first.
      await this.materialize();
    }
    const slicer = new Slicer();
    for (const id of plan.remove) {
      this.track(id, this.desired.get(id), undefined);
      if (slicer.due()) await slicer.yield();
    }
    for (const rule of plan.add) {
      this.track(rule.id, this.desired.get(rule.id), rule);
      if (slicer.due()) await slicer.yield();
    }
  }

  /** An id changes while the driver is believed empty: what the outstanding plan holds for it is kept. */
  private noteFromEmpty(id: bigint): void {
    const changed = this.fromEmpty?.changed;
    if (changed && !changed.has(id)) changed.set(id, this.desired.get(id));
  }

  /** The empty driver as one "absent" entry per desired id. */
  private async materialize(): Promise<void> {
    const mismatch = new Map<bigint, DriverRule | undefined>();
    const slicer = new Slicer();
    for (const id of [...this.desired.keys()]) {
      mismatch.set(id, undefined);
      if (slicer.due()) await slicer.yield();
    }
    // Ids set while this ran are missing too (setDesired saw an empty driver); ids deleted
    // while it ran are wanted nowhere and held nowhere.
    for (const id of this.desired.keys()) if (!mismatch.has(id)) mismatch.set(id, undefined);
    for (const id of mismatch.keys()) if (!this.desired.has(id)) mismatch.delete(id);
    this.setActual(mismatch);
  }

  private setActual(mismatch: Map<bigint, DriverRule | undefined>): void {
    this.actualEmpty = false;
    this.fromEmpty = undefined;
    this.mismatch = mismatch;
  }

  private noteSorted(id: bigint, rule: DriverRule | undefined): void {
    if (!this.sorted && !this.sorting) return;
    this.sortedChanges.set(id, rule);
    // Past this many changes a whole sort is cheaper than patching.
    if (this.sorted && this.sortedChanges.size > this.sorted.length / 4) {
      this.sorted = undefined;
      this.sortedChanges.clear();
    }
  }

  /** The desired rules sorted by id: sorted whole the first time, patched after changes. */
  private async desiredSorted(): Promise<DriverRule[]> {
    if (this.sorted && this.sortedChanges.size > 0) {
      const changes = new Map(this.sortedChanges);
      this.sortedChanges.clear();
      const patched = await patchSorted(this.sorted, changes);
      // Changes made while patching stay in sortedChanges for the next time.
      if (this.sorted) this.sorted = patched;
    }
    if (!this.sorted) {
      this.sortedChanges.clear();
      this.sorting = true;
      let sorted: DriverRule[];
      try {
        sorted = await sortedById(this.desired);
      } finally {
        this.sorting = false;
      }
      // Changes made while sorting (noted against no list) are patched in before use.
      const changes = new Map(this.sortedChanges);
      this.sortedChanges.clear();
      this.sorted = changes.size > 0 ? await patchSorted(sorted, changes) : sorted;
    }
    return this.sorted;
  }

  private actualOf(id: bigint): DriverRule | undefined {
    if (this.actualEmpty) return undefined;
    return this.mismatch.has(id) ? this.mismatch.get(id) : this.desired.get(id);
  }

  private track(id: bigint, wanted: DriverRule | undefined, held: DriverRule | undefined): void {
    if (same(wanted, held, this.driverForm())) this.mismatch.delete(id);
    else this.mismatch.set(id, held);
  }

  /** What the actual side was believed to be: for counting drift after it is replaced. */
  private belief(): Belief {
    return { empty: this.actualEmpty, mismatch: this.mismatch };
  }

  /** Ids whose actual rule differs between the old belief and the new read-back. */
  private drift(before: Belief): number {
    // Believed empty: every rule now held is drift. Now empty: every rule believed held was.
    if (before.empty) return this.actualCount;
    if (this.actualEmpty) return countHeld(this.desired, before.mismatch);
    const previous = before.mismatch;
    const next = this.mismatch;
    let drift = 0;
    for (const [id, held] of next) {
      const believed = previous.has(id) ? previous.get(id) : this.desired.get(id);
      if (!same(believed, held, this.driverForm())) drift++;
    }
    for (const [id, believed] of previous) {
      if (!next.has(id) && !same(believed, this.desired.get(id), this.driverForm())) drift++;
    }
    return drift;
  }
}

/** Rules held in a driver described by `mismatch` against `desired`. */
function countHeld(desired: ReadonlyMap<bigint, DriverRule>, mismatch: ReadonlyMap<bigint, DriverRule | undefined>): number {
  let count = desired.size;
  for (const [id, held] of mismatch) {
    const wanted = desired.has(id);
    if (wanted && held === undefined) count--;
    else if (!wanted && held !== undefined) count++;
  }
  return count;
}
