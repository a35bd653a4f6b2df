/**
 * The pipeline's Prometheus metrics. Counts are kept in plain numbers on the hot path
 * and added to the prom-client counters once per processed chunk.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { DropStage } from './types.js';

export type IgnoreReason = 'not_reported' | 'unsupported_type';

export class PipelineMetrics {
  readonly received: Counter;
  readonly dropped: Counter<'stage'>;
  readonly alerts: Counter<'action'>;
  readonly logs: Counter;
  readonly ignored: Counter<'reason'>;
  readonly unknownRules: Counter;
  readonly evictions: Counter<'cache'>;
  readonly sinkErrors: Counter;

  constructor(registry: Registry, queueLength: () => number) {
    const registers = [registry];
    this.received = new Counter({ name: 'kawin_events_received_total', help: 'Driver events received by the pipeline', registers });
    this.dropped = new Counter({
      name: 'kawin_events_dropped_total', help: 'Events lost, by stage: driver (ring full) or pipeline (events.queueSize full)',
      labelNames: ['stage'], registers,
    });
    this.alerts = new Counter({ name: 'kawin_events_alerts_total', help: 'Alerts built, by action', labelNames: ['action'], registers });
    this.logs = new Counter({ name: 'kawin_events_logs_total', help: 'Host logs built', registers });
    this.ignored = new Counter({
      name: 'kawin_events_ignored_total', help: 'Events that became neither alert nor log, by reason',
      labelNames: ['reason'], registers,
    });
    this.unknownRules = new Counter({
      name: 'kawin_events_unknown_rule_total', help: 'Matched events whose rule id had no policy provenance', registers,
    });
    this.evictions = new Counter({
      name: 'kawin_events_cache_evictions_total', help: 'Entries evicted from the pipeline caches because they were full',
      labelNames: ['cache'], registers,
    });
    this.sinkErrors = new Counter({ name: 'kawin_events_sink_errors_total', help: 'Exceptions thrown by event sinks', registers });
    new Gauge({
      name: 'kawin_events_queue_length', help: 'Events waiting in the pipeline queue', registers,
      collect() { this.set(queueLength()); },
    });
    for (const stage of ['driver', 'pipeline'] satisfies DropStage[]) this.dropped.inc({ stage }, 0);
  }
}
