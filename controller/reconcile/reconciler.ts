/**
 * The level-based reconcile of the driver's rule table and config: whatever triggered
 * it, one pass makes the driver equal the desired state with at most one atomic APPLY.
 * The actual side is a cache validated by the driver's generation: a write against a
 * stale cache fails with a generation conflict, which forces a full read-back.
 */
import type { Logger } from '../observability/index.js';
import { randomUUID } from 'node:crypto';
import type { DriverConfig, DriverRule, DriverState } from '../../driver/abi/types.js';
import type { Driver } from '../../driver/client/types.js';
import { GenerationConflictError } from '../../driver/client/errors.js';
import { RuleDelta, type RulePlan } from './delta.js';
import type { ReconcileMetrics } from './observe.js';

const MAX_CONFLICT_RETRIES = 3;

export type ReconcileOutcome = 'applied' | 'unchanged' | 'waiting';

export interface ReconcileResult {
  outcome: ReconcileOutcome;
  reconcileID: string;
  added: number;
  removed: number;
  drift: number;
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
  private readonly delta = new RuleDelta();
  private generation: bigint | undefined;
  private needsReadBack = true;
  private believedInSync = false;
  private lastState: DriverState | undefined;

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
    this.delta.clearActual();
    if (driver) for (const rule of this.options.desired.rules().values()) this.delta.setDesired(this.toDriverForm(driver, rule));
  }

  /** Desired rules (policy form, DOS paths) changed for these ids. */
  desiredChanged(ids: Iterable<bigint>): void {
    const rules = this.options.desired.rules();
    const driver = this.driver;
    for (const id of ids) {
      if (!driver) break;
      const rule = rules.get(id);
      if (rule) this.delta.setDesired(this.toDriverForm(driver, rule));
      else this.delta.deleteDesired(id);
    }
    this.options.metrics.rulesDesired(rules.size);
  }

  /** The next pass reads the whole table back (periodic resync, suspected drift). */
  requestReadBack(): void { this.needsReadBack = true; }

  get appliedGeneration(): bigint | undefined { return this.generation; }
  get driverState(): DriverState | undefined { return this.lastState; }
  get inSync(): boolean { return this.generation !== undefined && this.delta.inSync; }
  get rulesApplied(): number { return this.delta.actualCount; }

  async reconcile(): Promise<ReconcileResult> {
    const reconcileID = randomUUID();
    const log = this.options.logger.child({ reconcileID });
    const started = performance.now();
    try {
      const result = await this.pass(reconcileID, log);
      this.options.metrics.reconciled(result.outcome, (performance.now() - started) / 1000);
      return result;
    } catch (error) {
      this.options.metrics.reconciled('error', (performance.now() - started) / 1000);
      log.warn('reconcile failed', { error: (error as Error).message });
      throw error;
    }
  }

  private async pass(reconcileID: string, log: Logger): Promise<ReconcileResult> {
    const driver = this.driver;
    if (!driver) throw new DriverUnavailableError('driver not connected');
    const { desired } = this.options;
    if (!desired.ready()) {
      const reason = `waiting for ${desired.waitingFor().join(', ')}`;
      log.debug('not writing yet', { waitingFor: desired.waitingFor() });
      return { outcome: 'waiting', reconcileID, added: 0, removed: 0, drift: 0, reason };
    }
    let drift = 0;
    for (let attempt = 0; ; attempt++) {
      if (this.needsReadBack) drift += await this.readBack(driver, log);
      await this.applyConfig(driver, log);
      const plan = this.delta.plan();
      if (plan.add.length === 0 && plan.remove.length === 0) {
        this.believedInSync = true;
        this.options.metrics.rulesApplied(this.delta.actualCount);
        return { outcome: 'unchanged', reconcileID, added: 0, removed: 0, drift, generation: this.generation };
      }
      try {
        await this.write(driver, plan, log);
        return { outcome: 'applied', reconcileID, added: plan.add.length, removed: plan.remove.length, drift, generation: this.generation };
      } catch (error) {
        if (!(error instanceof GenerationConflictError) || attempt >= MAX_CONFLICT_RETRIES) throw error;
        this.options.metrics.conflicted();
        log.info('generation conflict: the table changed under us, reading it back', { attempt });
        this.needsReadBack = true;
      }
    }
  }

  private async readBack(driver: Driver, log: Logger): Promise<number> {
    const table = await driver.listRules();
    // Drift only means something against a state the agent believed in.
    const counted = this.delta.replaceActual(table.rules, this.believedInSync);
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

  private async write(driver: Driver, plan: RulePlan, log: Logger): Promise<void> {
    if (this.generation === undefined) throw new Error('apply before read-back');
    const result = await driver.apply({ expectedGeneration: this.generation, remove: plan.remove, add: plan.add });
    this.generation = result.generation;
    this.delta.committed(plan);
    this.believedInSync = this.delta.inSync;
    this.options.metrics.rulesApplied(this.delta.actualCount);
    log.info('rules applied', {
      added: plan.add.length, removed: plan.remove.length, generation: String(result.generation),
      rules: this.delta.actualCount,
    });
  }

  private toDriverForm(driver: Driver, rule: DriverRule): DriverRule {
    const { paths } = driver;
    const out: DriverRule = {
      id: rule.id, kind: rule.kind, action: rule.action, flags: rule.flags,
      target: { path: paths.toDriver(rule.target.path), match: rule.target.match },
    };
    if (rule.source) out.source = { path: paths.toDriver(rule.source.path), match: rule.source.match };
    return out;
  }
}

function sameConfig(a: DriverConfig, b: DriverConfig): boolean {
  return a.caseFold === b.caseFold && a.eventMask === b.eventMask && a.processPosture === b.processPosture &&
    a.filePosture === b.filePosture && a.networkPosture === b.networkPosture && a.registryPosture === b.registryPosture;
}
