/** Binds the reconciler's narrow reporting interface to the agent's Prometheus metrics. */
import type { AgentMetrics } from '../observability/index.js';
import type { ReconcileMetrics } from '../reconcile/index.js';

const RESULT_LABEL = { applied: 'success', unchanged: 'success', waiting: 'requeue', error: 'error' } as const;

export function reconcileMetrics(metrics: AgentMetrics): ReconcileMetrics {
  return {
    reconciled: (result, seconds) => {
      metrics.reconciles.inc({ result: RESULT_LABEL[result] });
      metrics.reconcileDuration.observe(seconds);
    },
    conflicted: () => metrics.reconciles.inc({ result: 'conflict' }),
    rulesDesired: (count) => metrics.rulesDesired.set(count),
    rulesApplied: (count) => metrics.rulesApplied.set(count),
    driftCorrected: (count) => metrics.driftCorrections.inc(count),
    rulesRefused: (counts) => {
      for (const [check, count] of Object.entries(counts)) metrics.rulesRefused.set({ check }, count);
    },
  };
}
