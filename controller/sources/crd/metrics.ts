/** The CRD source's metrics, on the agent's registry (created once, shared by re-creations). */
import { Counter, Gauge, type Registry } from 'prom-client';
import { METRIC_PREFIX } from '../../observability/index.js';
import type { ReflectorRestart } from './reflector.js';
import type { EventWrite } from './events.js';

export interface CrdMetrics {
  lists: Counter<'resource'>;
  watchRestarts: Counter<'resource' | 'reason'>;
  objects: Gauge<'resource'>;
  events: Counter<'result'>;
}

export const WATCH_RESTART_REASONS: readonly ReflectorRestart[] = ['gone', 'silent', 'closed', 'relist_due', 'error'];
export const EVENT_WRITES: readonly EventWrite[] = ['created', 'patched', 'rate_limited', 'failed'];

function once<T>(registry: Registry, name: string, make: () => T): T {
  return (registry.getSingleMetric(name) as T | undefined) ?? make();
}

export function crdMetrics(registry: Registry): CrdMetrics {
  const registers = [registry];
  const n = (s: string): string => `${METRIC_PREFIX}${s}`;
  return {
    lists: once(registry, n('crd_lists_total'), () => new Counter({
      name: n('crd_lists_total'), help: 'Complete lists (all pages) of a watched resource: the initial one, re-lists after 410 Gone and periodic re-lists.', labelNames: ['resource'] as const, registers,
    })),
    watchRestarts: once(registry, n('crd_watch_restarts_total'), () => new Counter({
      name: n('crd_watch_restarts_total'), help: 'Watches ended and re-established, by reason (gone, silent, closed, relist_due, error).', labelNames: ['resource', 'reason'] as const, registers,
    })),
    objects: once(registry, n('crd_objects'), () => new Gauge({
      name: n('crd_objects'), help: 'Objects of a watched resource as last seen.', labelNames: ['resource'] as const, registers,
    })),
    events: once(registry, n('crd_events_total'), () => new Counter({
      name: n('crd_events_total'), help: 'Kubernetes Event writes by result (created, patched, rate_limited, failed).', labelNames: ['result'] as const, registers,
    })),
  };
}
