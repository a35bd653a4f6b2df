/**
 * The desired store: every source writes here; it parses and validates each unit with
 * the one policy parser, keeps the last good version of every policy, resolves identity
 * conflicts between sources by precedence, and tells its listener which policies
 * changed. A failed source keeps everything it contributed.
 *
 * One identity from two units of the same source (two files naming one policy) is a
 * conflict, not a precedence: neither replaces the other. The version in force before
 * the conflict stays in force (so a conflict never opens a gap); if none was, none is.
 * Both units show the conflict as an error until one of them drops the identity.
 */
import type { AppliedPolicy } from './last-applied.js';
import type { ParsedUnit, PolicyEntry, PolicyIdentity, PolicyParser, PrepareProgress, Problem, SourceDocument, SourceSink, SourceStatus } from './types.js';

/** Nothing to wait for: every doc is upserted (and parsed, if need be) at once. */
export const PREPARED: PrepareProgress = { ready: () => Promise.resolve(), done: Promise.resolve() };

interface Contribution<P> {
  entry?: PolicyEntry<P>;
  /** The unit's text when `entry` was accepted (what is persisted as last applied). */
  text?: UnitText;
  identity?: PolicyIdentity;
  errors: Problem[];
}

interface UnitText {
  text: string;
  location: string;
}

interface UnitRecord {
  keys: Set<string>;
  problems: Problem[];
}

/** A unit the store could not use as a whole (syntax, encoding, size, no identity). */
export interface RejectedUnit {
  source: string;
  origin: string;
  problems: Problem[];
}

/** One identity defined by more than one unit of the same source. */
export interface IdentityConflict {
  key: string;
  /** `source:origin` of every unit defining it, sorted. */
  units: string[];
  /** `source:origin` of the unit kept in force (the one in force before), if any. */
  kept?: string;
}

/** Told when a unit's errors or an identity conflict appear (for the log). */
export interface StoreObserver {
  unitRejected?(unit: RejectedUnit): void;
  /** One policy's new version was rejected (schema, paths…): its previous version, if any, stays. */
  policyRejected?(rejection: { key: string; source: string; origin: string; problems: Problem[]; lastKnownGood: boolean }): void;
  conflict?(conflict: IdentityConflict): void;
}

export interface StoreListener<P> {
  /** The policy in force for `key` changed (undefined: no longer desired). */
  policyChanged(key: string, entry: PolicyEntry<P> | undefined): void;
  /** Source readiness or unit errors changed. */
  statusChanged(): void;
}

export interface DesiredStoreOptions<P> {
  /** Prepares a batch of texts before their upserts (worker threads, compile cache). */
  preparer?: (texts: readonly { text: string; location: string }[]) => PrepareProgress;
  /** Told about rejections and conflicts (log, metrics). */
  observer?: StoreObserver;
  /** Downstream: the policies in force, as they change (the compiler and reconciler). */
  listener?: StoreListener<P>;
}

export class DesiredStore<P> implements SourceSink {
  /** key → (source\0origin → contribution) */
  private readonly contributions = new Map<string, Map<string, Contribution<P>>>();
  private readonly units = new Map<string, UnitRecord>();
  private readonly sources = new Map<string, SourceStatus>();
  private readonly effective = new Map<string, PolicyEntry<P>>();
  private readonly listener: StoreListener<P> | undefined;
  private lastCheck: { text: string; location: string; unit: ParsedUnit<P> } | undefined;
  private readonly conflicted = new Map<string, IdentityConflict>();
  private changes = 0;
  /** Last applied before a restart, by unit: used until the unit's source has synced. */
  private restored = new Map<string, AppliedPolicy[]>();

  constructor(
    private readonly parse: PolicyParser<P>,
    private readonly precedence: readonly string[],
    options: DesiredStoreOptions<P> = {},
  ) {
    this.preparer = options.preparer;
    this.listener = options.listener;
    this.observer = options.observer ?? {};
  }

  /** Prepares a batch of texts before their upserts (worker threads, compile cache). */
  private readonly preparer: DesiredStoreOptions<P>['preparer'];
  private readonly observer: StoreObserver;

  /** A source that must sync before anything is written. */
  register(source: string): void {
    if (!this.sources.has(source)) this.sources.set(source, { name: source, inSync: false, units: 0 });
  }

  ready(): boolean { return [...this.sources.values()].every((s) => s.inSync); }
  waitingFor(): string[] { return [...this.sources.values()].filter((s) => !s.inSync).map((s) => s.name); }
  sourceStatus(): SourceStatus[] { return [...this.sources.values()].map((s) => ({ ...s })); }
  policies(): PolicyEntry<P>[] { return [...this.effective.values()]; }
  get(key: string): PolicyEntry<P> | undefined { return this.effective.get(key); }

  /** Units with errors that concern the whole text (for status, metrics). Per-policy errors are in `invalid()`. */
  rejectedUnits(): RejectedUnit[] {
    const out: RejectedUnit[] = [];
    for (const [unit, record] of this.units) {
      if (!record.problems.some((p) => p.severity === 'error')) continue;
      const [source, origin] = splitUnit(unit);
      out.push({ source, origin, problems: record.problems });
    }
    return out;
  }

  /**
   * Policies not in force from a unit: every version rejected, or defined by another unit
   * of the same source too (the conflict is the error; nothing of it is in force from here).
   */
  invalid(): { key: string; identity: PolicyIdentity; source: string; origin: string; errors: Problem[] }[] {
    const out = [];
    for (const [key, byUnit] of this.contributions) {
      const winner = this.effective.get(key);
      const conflict = this.conflicted.get(key);
      // A key in force without a conflict: the others lost by precedence (shown as contenders).
      if (winner && !conflict) continue;
      const inForce = winner && `${winner.source}\0${winner.origin}`;
      for (const [unit, c] of byUnit) {
        if (unit === inForce) continue;
        const [source, origin] = splitUnit(unit);
        const errors = conflict ? [...c.errors, this.conflictProblem(conflict, source, origin)] : c.errors;
        const identity = c.identity ?? c.entry?.identity;
        if (identity && errors.length) out.push({ key, identity, source, origin, errors });
      }
    }
    return out;
  }

  /** The conflict error of the unit in force for `key`, if its identity is in conflict. */
  conflictOf(key: string): Problem | undefined {
    const conflict = this.conflicted.get(key);
    const winner = this.effective.get(key);
    return conflict && winner ? this.conflictProblem(conflict, winner.source, winner.origin) : undefined;
  }

  private conflictProblem(conflict: IdentityConflict, source: string, origin: string): Problem {
    const others = conflict.units.filter((u) => u !== `${source}:${origin}`).map((u) => u.slice(u.indexOf(':') + 1));
    const kept = conflict.kept === undefined ? 'neither is in force until one of them is removed'
      : conflict.kept === `${source}:${origin}` ? 'this one was in force before and stays until the conflict is resolved'
        : `the one in force before (${conflict.kept.slice(conflict.kept.indexOf(':') + 1)}) stays`;
    return { severity: 'error', location: origin, path: 'metadata.name', message: `${conflict.key} is also defined in ${others.join(', ')}; a policy must be defined once (${kept})` };
  }

  /**
   * Parse without storing: what `upsert` would accept (dry runs, gRPC validation). The
   * last verdict is kept, so validating a request and then storing it parses once.
   */
  check(text: string, location: string): ParsedUnit<P> {
    const unit = this.parse(text, location);
    this.lastCheck = { text, location, unit };
    return unit;
  }

  private parseOnce(text: string, location: string): ParsedUnit<P> {
    const last = this.lastCheck;
    this.lastCheck = undefined;
    return last && last.text === text && last.location === location ? last.unit : this.parse(text, location);
  }

  /** A batch of units about to be upserted: prepared off this thread, so the upserts that follow parse nothing. */
  prepare(_source: string, docs: readonly SourceDocument[]): PrepareProgress {
    return this.preparer?.(docs) ?? PREPARED;
  }

  upsert(source: string, doc: SourceDocument): void {
    this.register(source);
    const unitKey = `${source}\0${doc.origin}`;
    const parsed = this.parseOnce(doc.text, doc.location);
    const record = this.unit(source, unitKey);
    record.problems = parsed.problems;
    const touched = new Set<string>();
    const seen = new Set<string>();
    for (const document of parsed.documents) {
      seen.add(document.key);
      touched.add(document.key);
      this.contribute(document.key, { unitKey, source, origin: doc.origin, text: { text: doc.text, location: doc.location } }, document);
    }
    // A unit whose text could not be read whole keeps what it contributed (last-known-good).
    const wholeUnitFailed = parsed.problems.some((p) => p.severity === 'error');
    if (wholeUnitFailed) for (const key of this.restoreUnit(unitKey, source, doc.origin, record, parsed.problems)) touched.add(key);
    if (!wholeUnitFailed) {
      for (const key of record.keys) {
        if (seen.has(key)) continue;
        this.withdraw(key, unitKey);
        touched.add(key);
      }
      record.keys = seen;
    } else {
      for (const key of seen) record.keys.add(key);
    }
    this.refresh(touched);
    this.reportUnit(source, doc.origin, record);
    this.listener?.statusChanged();
  }

  private reportUnit(source: string, origin: string, record: UnitRecord): void {
    if (record.problems.some((p) => p.severity === 'error')) this.observer.unitRejected?.({ source, origin, problems: record.problems });
  }

  /** The unit could not be read (too large, unreadable): what it held stays, with the error. */
  rejected(source: string, origin: string, error: Error): void {
    this.register(source);
    const record = this.unit(source, `${source}\0${origin}`);
    record.problems = [{ severity: 'error', location: origin, message: error.message }];
    this.refresh(this.restoreUnit(`${source}\0${origin}`, source, origin, record, record.problems));
    this.reportUnit(source, origin, record);
    this.listener?.statusChanged();
  }

  remove(source: string, origin: string): void {
    const unitKey = `${source}\0${origin}`;
    const record = this.units.get(unitKey);
    if (!record) return;
    this.units.delete(unitKey);
    const status = this.sources.get(source);
    if (status) status.units--;
    for (const key of record.keys) this.withdraw(key, unitKey);
    this.refresh(record.keys);
    this.listener?.statusChanged();
  }

  /** The source is no longer enabled: everything it contributed is withdrawn. */
  dropSource(source: string): void {
    const prefix = `${source}\0`;
    for (const unit of [...this.units.keys()]) if (unit.startsWith(prefix)) this.remove(source, unit.slice(prefix.length));
    this.sources.delete(source);
    this.listener?.statusChanged();
  }

  synced(source: string, revision: string): void {
    this.register(source);
    const status = this.sources.get(source)!;
    Object.assign(status, { inSync: true, revision, error: undefined });
    // Once a source has reported everything, what it reported is the truth: a restored
    // version of a unit it no longer holds must not come back later.
    for (const unit of [...this.restored.keys()]) if (unit.startsWith(`${source}\0`)) this.restored.delete(unit);
    this.listener?.statusChanged();
  }

  failed(source: string, error: Error): void {
    this.register(source);
    const status = this.sources.get(source)!;
    // Keeps inSync as it was: a source that synced once stays authoritative for what it
    // reported; one that never synced keeps the agent from writing anything.
    status.error = error.message;
    this.listener?.statusChanged();
  }

  private contribute(key: string, unit: { unitKey: string; source: string; origin: string; text: UnitText }, document: ParsedUnit<P>['documents'][number]): void {
    const { unitKey, source, origin, text } = unit;
    const byUnit = this.contributions.get(key) ?? new Map<string, Contribution<P>>();
    this.contributions.set(key, byUnit);
    const previous = byUnit.get(unitKey);
    const errors = document.problems.filter((p) => p.severity === 'error');
    const warnings = document.problems.filter((p) => p.severity === 'warning');
    if (document.policy !== undefined && errors.length === 0) {
      const entry: PolicyEntry<P> = {
        key, identity: document.identity, source, origin, policy: document.policy, digest: document.digest, warnings, rejected: [],
      };
      byUnit.set(unitKey, { entry, text, errors: [] });
      return;
    }
    // Rejected: the previous good version stays in force, with the errors attached; after
    // a restart, the version last applied before it.
    const last = previous?.entry ? previous : this.restoredVersion(unitKey, key);
    const entry = last?.entry ? { ...last.entry, rejected: errors } : undefined;
    byUnit.set(unitKey, { entry, text: last?.text, identity: document.identity, errors });
    this.observer.policyRejected?.({ key, source, origin, problems: errors, lastKnownGood: entry !== undefined });
  }

  /**
   * Policies last applied before a restart: a unit that is unreadable or invalid when its
   * source first reports it keeps the versions the driver enforced.
   */
  restore(policies: readonly AppliedPolicy[]): void {
    this.restored = new Map();
    for (const p of policies) {
      const unit = `${p.source}\0${p.origin}`;
      this.restored.set(unit, [...(this.restored.get(unit) ?? []), p]);
    }
  }

  /** What is in force, with the text each version came from: the next `restore` after a restart. */
  snapshot(): AppliedPolicy[] {
    const out: AppliedPolicy[] = [];
    for (const [key, entry] of this.effective) {
      const text = this.contributions.get(key)?.get(`${entry.source}\0${entry.origin}`)?.text;
      if (text) out.push({ key, source: entry.source, origin: entry.origin, ...text });
    }
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** The restored version of `key` from `unitKey`, parsed again, if one was applied before the restart. */
  private restoredVersion(unitKey: string, key: string): Contribution<P> | undefined {
    const applied = this.restored.get(unitKey)?.find((p) => p.key === key);
    if (!applied) return undefined;
    const document = this.parse(applied.text, applied.location).documents.find((d) => d.key === key && d.policy !== undefined);
    if (!document?.policy || document.problems.some((p) => p.severity === 'error')) return undefined;
    const warnings = document.problems.filter((p) => p.severity === 'warning');
    const [source, origin] = splitUnit(unitKey);
    return {
      entry: { key, identity: document.identity, source, origin, policy: document.policy, digest: document.digest, warnings, rejected: [] },
      text: { text: applied.text, location: applied.location }, errors: [],
    };
  }

  /** A unit rejected whole: its restored versions not yet contributed come back as last-known-good. */
  private restoreUnit(unitKey: string, source: string, origin: string, record: UnitRecord, problems: Problem[]): string[] {
    const keys: string[] = [];
    for (const applied of this.restored.get(unitKey) ?? []) {
      if (this.contributions.get(applied.key)?.get(unitKey)) continue;
      const version = this.restoredVersion(unitKey, applied.key);
      if (!version?.entry) continue;
      const errors = problems.filter((p) => p.severity === 'error');
      const byUnit = this.contributions.get(applied.key) ?? new Map<string, Contribution<P>>();
      this.contributions.set(applied.key, byUnit);
      byUnit.set(unitKey, { ...version, entry: { ...version.entry, source, origin, rejected: errors }, identity: version.entry.identity, errors });
      record.keys.add(applied.key);
      keys.push(applied.key);
    }
    return keys;
  }

  private withdraw(key: string, unitKey: string): void {
    const byUnit = this.contributions.get(key);
    if (!byUnit) return;
    byUnit.delete(unitKey);
    if (byUnit.size === 0) this.contributions.delete(key);
  }

  private refresh(keys: Iterable<string>): void {
    for (const key of keys) {
      const winner = this.pick(key);
      const before = this.effective.get(key);
      if (winner) this.effective.set(key, winner);
      else this.effective.delete(key);
      if (sameVersion(before, winner)) continue;
      this.changes++;
      this.listener?.policyChanged(key, winner);
    }
  }

  /** Counts changes of a policy in force (a new version, added, removed): equal counts, the same policies. */
  get changeCount(): number {
    return this.changes;
  }

  /**
   * The highest-precedence source's entry. Two units of that source defining the key: a
   * conflict, and the unit in force before stays (none if none was).
   */
  private pick(key: string): PolicyEntry<P> | undefined {
    const byUnit = this.contributions.get(key);
    const top = byUnit ? this.topRanked(byUnit) : [];
    if (top.length < 2) {
      this.setConflict(key, undefined);
      return top[0]?.entry;
    }
    const unit = this.inForceUnit(key);
    const kept = unit === undefined ? undefined : byUnit!.get(unit)?.entry;
    this.setConflict(key, {
      key, units: top.map((u) => `${u.source}:${u.origin}`).sort(),
      ...(kept ? { kept: `${kept.source}:${kept.origin}` } : {}),
    });
    return kept;
  }

  /**
   * The unit whose version of `key` the driver may hold: the one in the store, once its
   * source has synced (before that nothing is written), or else the one last applied
   * before a restart (`restore`).
   */
  private inForceUnit(key: string): string | undefined {
    const before = this.effective.get(key);
    if (before && this.sources.get(before.source)?.inSync) return `${before.source}\0${before.origin}`;
    for (const [unit, policies] of this.restored) if (policies.some((p) => p.key === key)) return unit;
    return undefined;
  }

  /** Units of the best-ranked source defining `key` (with or without a valid version). */
  private topRanked(byUnit: Map<string, Contribution<P>>): { source: string; origin: string; entry?: PolicyEntry<P> }[] {
    const rank = (source: string): number => {
      const i = this.precedence.indexOf(source);
      return i < 0 ? this.precedence.length : i;
    };
    const units = [...byUnit].filter(([, c]) => c.entry).map(([unit, c]) => {
      const [source, origin] = splitUnit(unit);
      return { source, origin, entry: c.entry };
    });
    const best = Math.min(...units.map((u) => rank(u.source)));
    return units.filter((u) => rank(u.source) === best);
  }

  private setConflict(key: string, conflict: IdentityConflict | undefined): void {
    const before = this.conflicted.get(key);
    if (!conflict) {
      this.conflicted.delete(key);
      return;
    }
    this.conflicted.set(key, conflict);
    if (before?.units.join('\n') !== conflict.units.join('\n')) this.observer.conflict?.(conflict);
  }

  /** The record of a unit, created (and counted for its source) on first sight. */
  private unit(source: string, unitKey: string): UnitRecord {
    let record = this.units.get(unitKey);
    if (!record) {
      record = { keys: new Set<string>(), problems: [] };
      this.units.set(unitKey, record);
      this.sources.get(source)!.units++;
    }
    return record;
  }

  /** Identities defined by more than one unit of a source. */
  conflicts(): IdentityConflict[] {
    return [...this.conflicted.values()];
  }

  /** Contributions for one key from other places than the winner (lower precedence, or in conflict). */
  contenders(key: string): string[] {
    const winner = this.effective.get(key);
    const byUnit = this.contributions.get(key);
    if (!winner || !byUnit) return [];
    return [...byUnit.values()]
      .filter((c) => c.entry && (c.entry.source !== winner.source || c.entry.origin !== winner.origin))
      .map((c) => `${c.entry!.source}:${c.entry!.origin}`);
  }
}

function splitUnit(unit: string): [string, string] {
  const at = unit.indexOf('\0');
  return [unit.slice(0, at), unit.slice(at + 1)];
}

function sameVersion<P>(a: PolicyEntry<P> | undefined, b: PolicyEntry<P> | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.origin !== b.origin || a.source !== b.source) return false;
  return a.digest !== undefined ? a.digest === b.digest : a.policy === b.policy;
}
