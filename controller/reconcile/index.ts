/**
 * Reconcile: makes the driver's rule table and config equal the desired state, level-based
 * and atomically (one APPLY per pass, guarded by the driver's generation).
 */
export { Reconciler, DriverUnavailableError } from './reconciler.js';
export type { DesiredState, ReconcileResult, ReconcileOutcome, ReconcilerOptions } from './reconciler.js';
export { RuleDelta, sameRule } from './delta.js';
export type { RulePlan } from './delta.js';
export type { ReconcileMetrics, Logger } from './observe.js';
export { admit, REFUSAL_CHECKS } from './admission.js';
export type { RuleRefusal, RefusalCheck } from './admission.js';
