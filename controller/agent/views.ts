/**
 * Narrow, read-only views of the agent's parts, for everything that reports on it
 * (status, the admin service, StateAgent events, metrics). Nothing here can change the
 * agent; nobody outside reaches through the agent into its parts.
 */
import type { DriverRule, DriverState } from '../../driver/abi/types.js';
import type { AgentConfig } from '../config/index.js';
import type { RuleRefusal } from '../reconcile/index.js';
import type { CompiledPolicy, Policy, RuleProvenance } from '../policy/index.js';
import type { IdentityConflict, ParsedUnit, PolicyEntry, PolicyIdentity, Problem, RejectedUnit, SourceStatus } from '../store/index.js';
import type { ReconcileView } from './controller.js';

/** The desired store, read-only. */
export interface DesiredView {
  policies(): PolicyEntry<Policy>[];
  get(key: string): PolicyEntry<Policy> | undefined;
  invalid(): { key: string; identity: PolicyIdentity; source: string; origin: string; errors: Problem[] }[];
  /** Other places holding the identity in force for `key` (lower precedence, or in conflict). */
  contenders(key: string): string[];
  /** The conflict error of the unit in force for `key`, if another unit of its source defines it too. */
  conflictOf(key: string): Problem | undefined;
  conflicts(): IdentityConflict[];
  sourceStatus(): SourceStatus[];
  rejectedUnits(): RejectedUnit[];
  ready(): boolean;
  /** Parse and validate without storing (dry runs). */
  check(text: string, location: string): ParsedUnit<Policy>;
}

/** The compiled rule set of this node, read-only. */
export interface RulesView {
  status(key: string): CompiledPolicy | undefined;
  rules(): ReadonlyMap<bigint, DriverRule>;
  lookup(ruleId: bigint): RuleProvenance | undefined;
  /** Compile a candidate policy for this node without keeping it. */
  compile(policy: Policy): CompiledPolicy;
}

/** The driver as the agent last saw it. */
export interface DriverView {
  readonly kind: string;
  readonly connected: boolean;
  readonly inSync: boolean;
  readonly appliedGeneration: bigint | undefined;
  readonly rulesApplied: number;
  readonly state: DriverState | undefined;
  /** Why a desired rule is not in the driver (a missing volume, a limit, the driver's rejection). */
  refusal(ruleId: bigint): RuleRefusal | undefined;
}

/** Everything status is derived from. */
export interface AgentView {
  config(): AgentConfig;
  readonly startedAt: Date;
  now(): number;
  readonly desired: DesiredView;
  readonly rules: RulesView;
  readonly driver: DriverView;
  readonly reconcile: ReconcileView;
  /** The agent's readiness, as /readyz reports it (every part of the manager ready). */
  ready(): boolean;
}
