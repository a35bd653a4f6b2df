/**
 * From the desired store to the reconciler: each changed policy is compiled on its own
 * (cached by content digest), merged into the rule set, and only the rule ids it touched
 * are handed to the reconciler. One changed policy costs O(its rules); the compiled
 * state itself (last-known-good, re-selection) lives in the policy module's NodeRuleSet.
 */
import type { CompileCache, CompilerOptions, NodeRuleSet, ParseResult, Policy, PolicyCompiler, PolicyPreparer, RuleSetChange } from '../policy/index.js';
import type { Runnable } from '../manager/index.js';
import type { Logger } from '../observability/index.js';
import type { Reconciler } from '../reconcile/index.js';
import type { PolicyValidator } from '../sources/types.js';
import type { DesiredStore, ParsedUnit, PolicyEntry, Problem, StoreListener } from '../store/index.js';

/**
 * Parse, validate and check that the policy compiles on this node: one verdict for every
 * source. Only a policy this node selects must compile here (a Linux host policy in a
 * mixed cluster is not an error on a Windows node).
 */
export function policyParser(
  compiler: () => PolicyCompiler, parse: (text: string, location: string) => ParseResult,
): (text: string, location: string) => ParsedUnit<Policy> {
  return (text, location) => {
    const parsed = parse(text, location);
    const documents = [];
    for (const doc of parsed.documents) {
      if (!doc.identity || !doc.key) continue;
      const problems: Problem[] = [...doc.problems];
      if (doc.policy) problems.push(...compiler().compile(doc.policy).problems);
      const valid = doc.policy !== undefined && !problems.some((p) => p.severity === 'error');
      documents.push({
        key: doc.key, identity: doc.identity, digest: doc.policy?.digest, problems,
        policy: valid ? doc.policy : undefined,
      });
    }
    // Documents without an identity cannot be tied to a policy: their problems are the unit's.
    const orphan = parsed.documents.filter((d) => !d.identity).flatMap((d) => d.problems);
    return { documents, problems: [...parsed.problems, ...orphan] };
  };
}

/** The one validation every source gets: a dry run of the store's parser, one policy per request. */
export function policyValidator(store: Pick<DesiredStore<Policy>, 'check'>): PolicyValidator {
  return (text, location) => {
    const unit = store.check(text, location);
    const [doc] = unit.documents;
    const problems = [...unit.problems, ...(doc?.problems ?? [])];
    if (unit.documents.length > 1) problems.push({ severity: 'error', location, message: 'one policy per request' });
    return { identity: doc?.identity, errors: problems, digest: doc?.digest };
  };
}

export interface PolicyFlowOptions {
  rules: NodeRuleSet;
  reconciler: Reconciler;
  /** A reconcile is needed (coalesced by the work queue). */
  trigger: () => void;
  observer?: PolicyFlowObserver;
}

/** Told of every change of the policy in force for a key, after it is compiled (state events). */
export interface PolicyFlowObserver {
  policyChanged?(key: string, entry: PolicyEntry<Policy> | undefined): void;
}

export class PolicyFlow implements StoreListener<Policy> {
  constructor(private readonly options: PolicyFlowOptions) {}

  policyChanged(key: string, entry: PolicyEntry<Policy> | undefined): void {
    const { rules } = this.options;
    this.hand(entry ? rules.apply(entry.policy).change : rules.remove(key));
    this.options.observer?.policyChanged?.(key, entry);
  }

  statusChanged(): void {
    this.options.trigger();
  }

  /** Node labels, flavour or environment changed: every policy is selected and compiled again. */
  reconfigure(options: Partial<CompilerOptions>): void {
    this.hand(this.options.rules.reconfigure(options));
  }

  private hand(change: RuleSetChange): void {
    this.options.reconciler.desiredChanged(change.added);
    this.options.reconciler.desiredChanged(change.removed);
    this.options.trigger();
  }
}

/**
 * The policy preparer as a runnable: at start it loads the compile cache (an unchanged
 * restart parses nothing); at stop it writes the cache. The parse workers start with the
 * first batch large enough for them, not here: workers started and stopped unused left an
 * agent with few policies about 8 MB larger for good (bench:startup's agent RSS).
 */
export class PreparerRunnable implements Runnable {
  readonly name = 'policy-preparer';
  private stopped = false;
  constructor(private readonly preparer: PolicyPreparer, private readonly cache: CompileCache, private readonly logger: Logger) {}

  async start(): Promise<void> {
    const loaded = await this.cache.load();
    if ('rejected' in loaded) this.logger.warn('compile cache not used: it is rebuilt', { file: this.cache.file, reason: loaded.rejected });
    // No cache (a first start) or none usable (an upgrade): every policy will be parsed, so
    // the workers start while the sources read. Not for a cache that holds no entry: the
    // agent had no policy when it wrote it. In a turn of their own: starting two threads
    // takes the main thread a few ms.
    if ('rejected' in loaded || loaded.absent) setImmediate(() => { if (!this.stopped) this.preparer.warm(); });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.preparer.close().catch((error: unknown) => this.logger.warn('cannot write the compile cache', { error: (error as Error).message }));
  }

  get counts(): PolicyPreparer['counts'] { return this.preparer.counts; }

  /**
   * The initial sync is done: the compile cache is written, and the prepare workers stop
   * unless a batch is in flight (an agent whose first start found few policies or none
   * does not keep the workers it started ahead).
   */
  async initialSyncDone(): Promise<void> {
    this.preparer.stopIdleWorkers();
    await this.save();
    // Policies, none parsed on this thread (a warm restart, or workers did it all): the
    // first change would load and compile the parser in its turn; do it now, a step a
    // turn. An agent without policies keeps its footprint (the parser loaded is ~1 MB).
    const { inline, cached, prepared } = this.preparer.counts;
    if (inline === 0 && cached + prepared > 0 && !this.stopped) {
      await this.preparer.warmInline(() => this.stopped).catch((error: unknown) =>
        this.logger.debug('the parser warm-up failed (the first change compiles it instead)', { error: (error as Error).message }));
    }
  }

  /** Write the cache now. */
  async save(): Promise<void> {
    try {
      await this.preparer.save();
    } catch (error) {
      this.logger.warn('cannot write the compile cache: the next start parses again', { file: this.cache.file, error: (error as Error).message });
    }
  }
}
