/**
 * The level-based reconcile of the driver's rule table and config: whatever triggered
 * it, one pass makes the driver equal the desired state with one atomic APPLY.
 * The actual side is a cache validated by the driver's generation: a write against a
 * stale cache fails with a generation conflict, which forces a full read-back.
 *
 * One bad rule never stops the others: rules the node cannot take (a missing volume, a
 * path over the driver's limit) are refused before APPLY; when the driver still rejects
 * an APPLY as malformed, bisection finds the rules it refuses and applies the rest.
 * Refusals are reported per rule (status, log, metric) and checked again at each resync.
 */
import type { Logger } from '../observability/index.js';
import { randomUUID } from 'node:crypto';
import type { DriverConfig, DriverRule, DriverState } from '../../driver/abi/types.js';
import type { Driver } from '../../driver/client/types.js';
import { GenerationConflictError, MalformedRequestError } from '../../driver/client/errors.js';
import { REFUSAL_CHECKS, admit, driverRefusal, type RefusalCheck, type RuleRefusal } from './admission.js';
import { bisectRejected } from './bisect.js';
import { RuleDelta, type RulePlan } from './delta.js';
import type { ReconcileMetrics } from './observe.js';
import { Slicer } from '../clock/index.js';

const MAX_CONFLICT_RETRIES = 3;

export type ReconcileOutcome = 'applied' | 'unchanged' | 'waiting';

export interface ReconcileResult {
  outcome: ReconcileOutcome;
  reconcileID: string;
  added: number;
  removed: number;
  drift: number;
  /** Rules the driver rejected in this pass (found by bisection). */
  refused: number;
  generation?: bigint;
  reason?: string;
}

export interface DesiredState {
  /** Every enabled source has reported its first full sync. */
  ready(): boolean;
  /** Why not ready, for status and logs. */
  waitingFor(): string[];
  driverConfig(): DriverConfig;
  /** The desired rules by id, in policy form (DOS paths). */
  rules(): ReadonlyMap<bigint, DriverRule>;
}

export interface ReconcilerOptions {
  desired: DesiredState;
  metrics: ReconcileMetrics;
  logger: Logger;
}

/** Thrown when no driver is connected: the caller retries with backoff. */
export class DriverUnavailableError extends Error {}

export class Reconciler {
  private driver: Driver | undefined;
  private readonly delta = new RuleDelta(() => this.driver?.paths);
  private generation: bigint | undefined;
  private needsReadBack = true;
  private believedInSync = false;
  private lastState: DriverState | undefined;
  private readonly refused = new Map<bigint, RuleRefusal>();
  /**
   * Set by `attach`: the next pass forgets the actual side and admits every desired rule
   * for the new driver, in slices (at 100k rules, one synchronous walk in the connect
   * callback held the event loop for a long time).
   */
  private reattach = false;
  private running = false;

  constructor(private readonly options: ReconcilerOptions) {}

  /**
   * A (re)connected driver: its table must be read back before any write, and the desired
   * rules are translated to its paths (its drive map may differ from the last driver's).
   */
  attach(driver: Driver | undefined): void {
    this.driver = driver;
    this.generation = undefined;
    this.needsReadBack = true;
    this.believedInSync = false;
    this.refused.clear();
    // Nothing desired or tracked yet (a driver connected at start, before the policies are
    // loaded): each rule is admitted as it arrives, with no walk over the table later.
    this.reattach = this.options.desired.rules().size > 0 || !this.delta.empty;
    this.reportRefusals();
  }

  /** Desired rules (policy form, DOS paths) changed for these ids. */
  desiredChanged(ids: Iterable<bigint>): void {
    const rules = this.options.desired.rules();
    const driver = this.driver;
    for (const id of ids) {
      if (!driver) break;
      const rule = rules.get(id);
      if (rule) this.admitOne(driver, rule);
      else {
        this.delta.deleteDesired(id);
        this.refused.delete(id);
      }
    }
    this.options.metrics.rulesDesired(rules.size);
    this.reportRefusals();
  }

  /** The next pass reads the whole table back (periodic resync, suspected drift). */
  requestReadBack(): void { this.needsReadBack = true; }

  get appliedGeneration(): bigint | undefined { return this.generation; }
  get driverState(): DriverState | undefined { return this.lastState; }
  get inSync(): boolean { return this.generation !== undefined && this.delta.inSync; }
  get rulesApplied(): number { return this.reattach ? 0 : this.delta.actualCount; }
  /** Why a desired rule is not in the driver, when it was refused. */
  refusal(ruleId: bigint): RuleRefusal | undefined { return this.refused.get(ruleId); }
  get refusals(): ReadonlyMap<bigint, RuleRefusal> { return this.refused; }

  /**
   * A pass is running: its generation and counts are in motion (an APPLY in flight, its
   * commit walked in slices), so a check of the driver against them would see drift that is not.
   */
  get passing(): boolean { return this.running; }

  async reconcile(): Promise<ReconcileResult> {
    const reconcileID = randomUUID();
    const log = this.options.logger.child({ reconcileID });
    const started = performance.now();
    this.running = true;
    try {
      const result = await this.pass(reconcileID, log);
      this.options.metrics.reconciled(result.outcome, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      this.options.metrics.reconciled('error', (performance.now() - started) / 1000);
      log.warn('reconcile failed', { error: (error as Error).message });
      throw error;
    } finally {
      this.running = false;
    }
  }

  private async pass(reconcileID: string, log: Logger): Promise<ReconcileResult> {
    const driver = this.driver;
    if (!driver) throw new DriverUnavailableError('driver not connected');
    const { desired } = this.options;
    if (!desired.ready()) {
      const reason = `waiting for ${desired.waitingFor().join(', ')}`;
      log.debug('not writing yet', { waitingFor: desired.waitingFor() });
      return { outcome: 'waiting', reconcileID, added: 0, removed: 0, drift: 0, refused: 0, reason };
    }
    if (this.reattach) {
      this.reattach = false;
      await this.delta.clearActual();
      await this.admitAll(driver);
    }
    let drift = 0;
    for (let attempt = 0; ; attempt++) {
      if (this.needsReadBack) drift += await this.readBack(driver, log);
      const plan = await this.delta.plan();
      if (plan.add.length === 0 && plan.remove.length === 0) {
        await this.applyConfig(driver, log);
        this.believedInSync = true;
        this.options.metrics.rulesApplied(this.delta.actualCount);
        return { outcome: 'unchanged', reconcileID, added: 0, removed: 0, drift, refused: 0, generation: this.generation };
      }
      try {
        const refused = await this.write(driver, plan, log);
        // The config after the rules: a changed policy reaches the driver one round trip
        // (GET_STATE) sooner; a config change is applied in the same pass all the same.
        await this.applyConfig(driver, log);
        return {
          outcome: 'applied', reconcileID, added: plan.add.length - refused, removed: plan.remove.length, drift, refused,
          generation: this.generation,
        };
      } catch (error) {
        if (!(error instanceof GenerationConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        this.options.metrics.conflicted();
        log.info('generation conflict: the table changed under us, reading it back', { attempt });
        this.needsReadBack = true;
      }
    }
  }

  private async readBack(driver: Driver, log: Logger): Promise<number> {
    await this.recheck(driver, log);
    const table = await driver.listRules();
    // Drift only means something against a state the agent believed in.
    let counted: number;
    try {
      counted = await this.delta.replaceActual(table.records, this.believedInSync);
    } finally {
      table.release();
    }
    this.generation = table.generation;
    this.needsReadBack = false;
    if (counted > 0) {
      this.options.metrics.driftCorrected(counted);
      log.warn('drift detected in the driver table', { differingRules: counted, generation: String(table.generation) });
    }
    this.believedInSync = false;
    return counted;
  }

  private async applyConfig(driver: Driver, log: Logger): Promise<void> {
    const state = await driver.getState();
    this.lastState = state;
    const want = this.options.desired.driverConfig();
    if (sameConfig(state.config, want)) return;
    await driver.setConfig(want);
    log.info('driver config applied', { config: want });
  }

  /** Writes the plan; returns how many of its rules the driver rejected (then refused, the rest applied). */
  private async write(driver: Driver, plan: RulePlan, log: Logger): Promise<number> {
    let refused = 0;
    try {
      await this.applyBatch(driver, plan);
    } catch (error) {
      if (!(error instanceof MalformedRequestError) || plan.add.length === 0) throw error;
      refused = await this.isolateRejected(driver, { rules: plan.add, error }, log);
      // Removals, and what a refusal left to undo (an older form of a refused rule).
      const rest = await this.delta.plan();
      if (rest.add.length || rest.remove.length) await this.applyBatch(driver, rest);
    }
    this.believedInSync = this.delta.inSync;
    this.options.metrics.rulesApplied(this.delta.actualCount);
    log.info('rules applied', {
      added: plan.add.length - refused, removed: plan.remove.length, refused, generation: String(this.generation),
      rules: this.delta.actualCount,
    });
    return refused;
  }

  /** One atomic APPLY of `plan` against the generation read; the actual side follows. */
  private async applyBatch(driver: Driver, plan: RulePlan): Promise<void> {
    if (this.generation === undefined) throw new Error('apply before read-back');
    const result = await driver.apply({ expectedGeneration: this.generation, remove: plan.remove, add: plan.add });
    this.generation = result.generation;
    await this.delta.committed(plan);
  }

  /** Bisects a rejected set of additions: the good ones land, the rejected ones are refused. */
  private async isolateRejected(driver: Driver, failed: { rules: DriverRule[]; error: Error }, log: Logger): Promise<number> {
    log.warn('the driver rejected the APPLY as malformed: bisecting to find the rules it refuses', {
      rules: failed.rules.length, error: failed.error.message,
    });
    const rejected = await bisectRejected(failed, (add) => this.applyBatch(driver, { add: [...add], remove: [] }),
      (e) => e instanceof MalformedRequestError);
    const desired = this.options.desired.rules();
    for (const { rule, error } of rejected) {
      this.delta.deleteDesired(rule.id);
      this.refuse(driverRefusal(rule.id, desired.get(rule.id)?.target.path ?? rule.target.path, error));
    }
    this.reportRefusals();
    return rejected.length;
  }

  /**
   * Before a read-back: the node's volumes are read again. A changed drive map translates
   * every rule again; otherwise only the rules refused by a node check are tried again
   * (a rule the driver rejected is tried again when it changes or the driver reconnects).
   */
  private async recheck(driver: Driver, log: Logger): Promise<void> {
    if (driver.refreshPaths()) {
      log.info("the node's volumes changed: every rule is translated again");
      this.refused.clear();
      await this.admitAll(driver);
      return;
    }
    const rules = this.options.desired.rules();
    for (const [id, refusal] of [...this.refused]) {
      if (refusal.check === 'driver') continue;
      const rule = rules.get(id);
      if (rule) this.admitOne(driver, rule);
      else this.refused.delete(id);
    }
    this.reportRefusals();
  }

  /** Every desired rule admitted again, in slices (a rule changed meanwhile is admitted by desiredChanged). */
  private async admitAll(driver: Driver): Promise<void> {
    const rules = this.options.desired.rules();
    const slicer = new Slicer();
    for (const id of [...rules.keys()]) {
      const rule = rules.get(id);
      if (rule) this.admitOne(driver, rule);
      if (slicer.due()) await slicer.yield();
    }
    this.reportRefusals();
  }

  /** Into the desired side in the driver's form, or refused (and out of the desired side). */
  private admitOne(driver: Driver, rule: DriverRule): void {
    const admission = admit(rule, driver.paths);
    if (admission.rule) {
      if (this.refused.delete(rule.id)) this.options.logger.info('a refused rule is admitted now', { ruleId: String(rule.id), path: rule.target.path });
      this.delta.setDesired(admission.rule);
      return;
    }
    this.delta.deleteDesired(rule.id);
    this.refuse(admission.refusal);
  }

  private refuse(refusal: RuleRefusal): void {
    const previous = this.refused.get(refusal.ruleId);
    this.refused.set(refusal.ruleId, refusal);
    if (previous?.reason === refusal.reason) return;
    this.options.logger.warn('rule refused: the other rules are enforced without it', {
      ruleId: String(refusal.ruleId), path: refusal.path, check: refusal.check, reason: refusal.reason,
    });
  }

  private reportRefusals(): void {
    const counts = Object.fromEntries(REFUSAL_CHECKS.map((c) => [c, 0])) as Record<RefusalCheck, number>;
    for (const refusal of this.refused.values()) counts[refusal.check]++;
    this.options.metrics.rulesRefused(counts);
  }
}

function sameConfig(a: DriverConfig, b: DriverConfig): boolean {
  return a.caseFold === b.caseFold && a.eventMask === b.eventMask && a.processPosture === b.processPosture &&
    a.filePosture === b.filePosture && a.networkPosture === b.networkPosture && a.registryPosture === b.registryPosture;
}
