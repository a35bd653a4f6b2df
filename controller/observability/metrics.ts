/**
 * The agent's Prometheus metrics, all on one registry with the `kawin_` prefix (other
 * modules register theirs on `metrics.registry`). Names follow Prometheus conventions:
 * base units (seconds), `_total` only on counters, `_info` for label-carrying constants.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

export const METRIC_PREFIX = 'kawin_';

/** prom-client's default gauges with a `_total` suffix, which promtool flags; the per-type series stay. */
const MISNAMED_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

const RECONCILE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const IOCTL_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1, 5];

export const RECONCILE_RESULTS = ['success', 'error', 'conflict', 'requeue'] as const;
export const POLICY_STATES = ['applied', 'partial', 'pending', 'invalid', 'last_known_good', 'not_selected', 'not_enforced'] as const;

export interface MetricsOptions {
  /** The agent's version (build info). */
  version: string;
  /** The node (host) name (build info). */
  node: string;
  registry?: Registry;
  /** Process and Node.js runtime metrics (default true). */
  defaultMetrics?: boolean;
}

function defineMetrics(registers: Registry[], collectPolicies: () => void, collectRejected: () => void) {
  const name = (n: string) => METRIC_PREFIX + n;
  return {
    reconciles: new Counter({ name: name('reconciles_total'), help: 'Reconcile passes by result (success, error, conflict, requeue).', labelNames: ['result'] as const, registers }),
    reconcileDuration: new Histogram({ name: name('reconcile_duration_seconds'), help: 'Duration of one reconcile pass.', buckets: RECONCILE_BUCKETS, registers }),
    workQueueDepth: new Gauge({ name: name('workqueue_depth'), help: 'Keys waiting in a work queue.', labelNames: ['name'] as const, registers }),
    workQueueRetries: new Counter({ name: name('workqueue_retries_total'), help: 'Keys re-queued with backoff after a failed run.', labelNames: ['name'] as const, registers }),
    rulesDesired: new Gauge({ name: name('rules_desired'), help: 'Driver rules compiled from the desired policies.', registers }),
    rulesApplied: new Gauge({ name: name('rules_applied'), help: "Rules in the driver's table after the last apply or read-back.", registers }),
    rulesRefused: new Gauge({ name: name('rules_refused'), help: 'Desired rules not in the driver because they were refused, by check (volume: not on this node; limit: over a driver limit; driver: rejected by the driver); their policies show partial or invalid.', labelNames: ['check'] as const, registers }),
    driftCorrections: new Counter({ name: name('drift_corrections_total'), help: "Rules re-added or removed because the driver's table drifted from the applied state.", registers }),
    driverUp: new Gauge({ name: name('driver_up'), help: '1 when the driver is loaded and answering, else 0.', registers }),
    driverPortConnected: new Gauge({ name: name('driver_port_connected'), help: "1 while the agent is connected to the driver's event port, else 0.", registers }),
    ioctlCalls: new Counter({ name: name('ioctl_calls_total'), help: 'IOCTL calls to the driver by operation.', labelNames: ['operation'] as const, registers }),
    ioctlErrors: new Counter({ name: name('ioctl_errors_total'), help: 'Failed IOCTL calls to the driver by operation.', labelNames: ['operation'] as const, registers }),
    ioctlDuration: new Histogram({ name: name('ioctl_duration_seconds'), help: 'IOCTL call latency by operation.', labelNames: ['operation'] as const, buckets: IOCTL_BUCKETS, registers }),
    policies: new Gauge({ name: name('policies'), help: 'Policies by state (applied, partial, invalid, not_selected, pending).', labelNames: ['state'] as const, registers, collect: collectPolicies }),
    sourceInSync: new Gauge({ name: name('source_in_sync'), help: '1 when a desired-state source has reported its full set, else 0.', labelNames: ['source'] as const, registers }),
    sourceRevision: new Gauge({ name: name('source_revision_info'), help: 'Content revision of each source (value always 1).', labelNames: ['source', 'revision'] as const, registers }),
    sourceFilesRejected: new Counter({ name: name('source_files_rejected_total'), help: 'Policy files a source could not use (reason: too_large, unreadable, transient, not_regular, encoding; transient: retried with backoff, counted per failed attempt); their previous version stays.', labelNames: ['source', 'reason'] as const, registers }),
    sourceUnitsRejected: new Gauge({ name: name('source_units_rejected'), help: 'Units (files, gRPC documents) a source holds that are rejected as a whole: syntax, encoding, size, missing or wrong apiVersion.', labelNames: ['source'] as const, registers, collect: collectRejected }),
    policyConflicts: new Gauge({ name: name('policy_conflicts'), help: 'Policy identities defined by more than one unit of one source (neither replaces the other).', registers, collect: collectRejected }),
    sourceWatchFailures: new Counter({ name: name('source_watch_failures_total'), help: 'Directories a source could not watch (changes there are seen only on rescans).', labelNames: ['source'] as const, registers }),
    configReloads: new Counter({ name: name('config_reloads_total'), help: 'Config file re-reads by result (applied, invalid).', labelNames: ['result'] as const, registers }),
    initialSyncDuration: new Gauge({ name: name('initial_sync_duration_seconds'), help: 'Time from agent start until every enabled source was in sync and the first apply was done.', registers }),
    buildInfo: new Gauge({ name: name('build_info'), help: 'Agent build information (value always 1).', labelNames: ['version', 'node', 'nodejs_version'] as const, registers }),
  };
}

export type AgentMetrics = ReturnType<typeof defineMetrics> & {
  readonly registry: Registry;
  /** Set a source's revision, replacing its previous revision series. */
  setSourceRevision(source: string, revision: string): void;
  /** Set the count of every policy state at once; states not given become 0. */
  setPolicyStates(counts: Readonly<Record<string, number>>): void;
  /** Where the policies-by-state gauge reads its counts at each scrape (one provider). */
  onCollectPolicies(provider: () => Readonly<Record<string, number>>): void;
  /** Where the rejected-units and conflicts gauges read their values at each scrape. */
  onCollectRejected(provider: () => RejectedCounts): void;
};

/** Units rejected as a whole, by source, and identities defined more than once. */
export interface RejectedCounts {
  units: Readonly<Record<string, number>>;
  conflicts: number;
}

export function createAgentMetrics(options: MetricsOptions): AgentMetrics {
  const registry = options.registry ?? new Registry();
  if (options.defaultMetrics !== false) {
    collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX });
    for (const n of MISNAMED_DEFAULTS) registry.removeSingleMetric(METRIC_PREFIX + n);
  }
  let policyCounts: (() => Readonly<Record<string, number>>) | undefined;
  // Derived when Prometheus scrapes, never on the reconcile path.
  let rejectedCounts: (() => RejectedCounts) | undefined;
  const collectRejected = (): void => {
    if (!rejectedCounts) return;
    const { units, conflicts } = rejectedCounts();
    setRejectedUnits(units);
    metrics.policyConflicts.set(conflicts);
  };
  const metrics = defineMetrics([registry], () => { if (policyCounts) setPolicyStates(policyCounts()); }, collectRejected);
  metrics.buildInfo.set({ version: options.version, node: options.node, nodejs_version: process.version }, 1);
  metrics.driverUp.set(0);
  metrics.driverPortConnected.set(0);
  for (const result of RECONCILE_RESULTS) metrics.reconciles.inc({ result }, 0);
  for (const result of ['applied', 'invalid']) metrics.configReloads.inc({ result }, 0);
  for (const check of ['volume', 'limit', 'driver']) metrics.rulesRefused.set({ check }, 0);
  const revisions = new Map<string, string>();
  const states = new Set<string>(POLICY_STATES);
  const setPolicyStates = (counts: Readonly<Record<string, number>>): void => {
    for (const s of Object.keys(counts)) states.add(s);
    for (const state of states) metrics.policies.set({ state }, counts[state] ?? 0);
  };
  setPolicyStates({});
  const rejectingSources = new Set<string>();
  const setRejectedUnits = (counts: Readonly<Record<string, number>>): void => {
    for (const s of Object.keys(counts)) rejectingSources.add(s);
    for (const source of rejectingSources) metrics.sourceUnitsRejected.set({ source }, counts[source] ?? 0);
  };
  metrics.policyConflicts.set(0);
  return {
    ...metrics,
    registry,
    onCollectPolicies(provider) { policyCounts = provider; },
    onCollectRejected(provider) { rejectedCounts = provider; },
    setSourceRevision(source, revision) {
      const previous = revisions.get(source);
      if (previous !== undefined && previous !== revision) metrics.sourceRevision.remove({ source, revision: previous });
      revisions.set(source, revision);
      metrics.sourceRevision.set({ source, revision }, 1);
    },
    setPolicyStates,
  };
}
