/**
 * The desired store: every source writes here; it parses and validates each unit with
 * the one policy parser, keeps the last good version of every policy, resolves identity
 * conflicts between sources by precedence, and tells its listener which policies
 * changed. A failed source keeps everything it contributed.
 */
import type { ParsedUnit, PolicyEntry, PolicyIdentity, PolicyParser, Problem, SourceDocument, SourceSink, SourceStatus } from './types.js';

interface Contribution<P> {
  entry?: PolicyEntry<P>;
  identity?: PolicyIdentity;
  errors: Problem[];
}

interface UnitRecord {
  keys: Set<string>;
  problems: Problem[];
}

export interface StoreListener<P> {
  /** The policy in force for `key` changed (undefined: no longer desired). */
  policyChanged(key: string, entry: PolicyEntry<P> | undefined): void;
  /** Source readiness or unit errors changed. */
  statusChanged(): void;
}

export class DesiredStore<P> implements SourceSink {
  /** key → (source\0origin → contribution) */
  private readonly contributions = new Map<string, Map<string, Contribution<P>>>();
  private readonly units = new Map<string, UnitRecord>();
  private readonly sources = new Map<string, SourceStatus>();
  private readonly effective = new Map<string, PolicyEntry<P>>();
  private listener: StoreListener<P> | undefined;
  private lastCheck: { text: string; location: string; unit: ParsedUnit<P> } | undefined;

  constructor(
    private readonly parse: PolicyParser<P>,
    private readonly precedence: readonly string[],
    /** Prepares a batch of texts before their upserts (worker threads, compile cache); optional. */
    private readonly preparer?: (texts: readonly { text: string; location: string }[]) => Promise<void>,
  ) {}

  setListener(listener: StoreListener<P>): void { this.listener = listener; }

  /** A source that must sync before anything is written. */
  register(source: string): void {
    if (!this.sources.has(source)) this.sources.set(source, { name: source, inSync: false, units: 0 });
  }

  ready(): boolean { return [...this.sources.values()].every((s) => s.inSync); }
  waitingFor(): string[] { return [...this.sources.values()].filter((s) => !s.inSync).map((s) => s.name); }
  sourceStatus(): SourceStatus[] { return [...this.sources.values()].map((s) => ({ ...s })); }
  policies(): PolicyEntry<P>[] { return [...this.effective.values()]; }
  get(key: string): PolicyEntry<P> | undefined { return this.effective.get(key); }

  /** Errors of units and rejected documents, for status. */
  problems(): { unit: string; problems: Problem[] }[] {
    const out: { unit: string; problems: Problem[] }[] = [];
    for (const [unit, record] of this.units) if (record.problems.length) out.push({ unit, problems: record.problems });
    for (const byUnit of this.contributions.values()) {
      for (const [unit, c] of byUnit) if (c.errors.length) out.push({ unit, problems: c.errors });
    }
    return out;
  }

  /** Policies whose every version was rejected: nothing of them is in force. */
  invalid(): { key: string; identity: PolicyIdentity; source: string; origin: string; errors: Problem[] }[] {
    const out = [];
    for (const [key, byUnit] of this.contributions) {
      if (this.effective.has(key)) continue;
      for (const [unit, c] of byUnit) {
        if (c.entry || !c.errors.length || !c.identity) continue;
        const [source, origin] = unit.split('\0') as [string, string];
        out.push({ key, identity: c.identity, source, origin, errors: c.errors });
      }
    }
    return out;
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

  /** A batch of units about to be upserted: prepared at once, so the upserts that follow parse nothing. */
  async prepare(_source: string, docs: readonly SourceDocument[]): Promise<void> {
    await this.preparer?.(docs);
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
      this.contribute(document.key, unitKey, source, doc.origin, document);
    }
    // A unit whose text could not be read whole keeps what it contributed (last-known-good).
    const wholeUnitFailed = parsed.problems.some((p) => p.severity === 'error');
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
    this.listener?.statusChanged();
  }

  /** The unit could not be read (too large, unreadable): what it held stays, with the error. */
  rejected(source: string, origin: string, error: Error): void {
    this.register(source);
    const record = this.unit(source, `${source}\0${origin}`);
    record.problems = [{ severity: 'error', location: origin, message: error.message }];
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

  private contribute(key: string, unitKey: string, source: string, origin: string, document: ParsedUnit<P>['documents'][number]): void {
    const byUnit = this.contributions.get(key) ?? new Map<string, Contribution<P>>();
    this.contributions.set(key, byUnit);
    const previous = byUnit.get(unitKey);
    const errors = document.problems.filter((p) => p.severity === 'error');
    const warnings = document.problems.filter((p) => p.severity === 'warning');
    if (document.policy !== undefined && errors.length === 0) {
      const entry: PolicyEntry<P> = {
        key, identity: document.identity, source, origin, policy: document.policy, digest: document.digest, warnings, rejected: [],
      };
      byUnit.set(unitKey, { entry, errors: [] });
      return;
    }
    // Rejected: the previous good version (if any) stays in force, with the errors attached.
    const entry = previous?.entry ? { ...previous.entry, rejected: errors } : undefined;
    byUnit.set(unitKey, { entry, identity: document.identity, errors });
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
      if (!sameVersion(before, winner)) this.listener?.policyChanged(key, winner);
    }
  }

  /** Highest-precedence source wins; within a source, the first origin in sort order. */
  private pick(key: string): PolicyEntry<P> | undefined {
    const byUnit = this.contributions.get(key);
    if (!byUnit) return undefined;
    const rank = (source: string): number => {
      const i = this.precedence.indexOf(source);
      return i < 0 ? this.precedence.length : i;
    };
    let best: PolicyEntry<P> | undefined;
    for (const c of byUnit.values()) {
      if (!c.entry) continue;
      if (!best || rank(c.entry.source) < rank(best.source) ||
        (rank(c.entry.source) === rank(best.source) && c.entry.origin < best.origin)) best = c.entry;
    }
    return best;
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

  /** Contributions for one key from other places than the winner: identity conflicts. */
  conflicts(key: string): string[] {
    const winner = this.effective.get(key);
    const byUnit = this.contributions.get(key);
    if (!winner || !byUnit) return [];
    return [...byUnit.values()]
      .filter((c) => c.entry && (c.entry.source !== winner.source || c.entry.origin !== winner.origin))
      .map((c) => `${c.entry!.source}:${c.entry!.origin}`);
  }
}

function sameVersion<P>(a: PolicyEntry<P> | undefined, b: PolicyEntry<P> | undefined): boolean {
  if (!a || !b) return a === b;
  if (a.origin !== b.origin || a.source !== b.source) return false;
  return a.digest !== undefined ? a.digest === b.digest : a.policy === b.policy;
}
