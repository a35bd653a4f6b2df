/** Adapters that turn other modules' observer hooks into metric updates. */
import type { DriverObserver } from '../../driver/client/types.js';
import type { WorkQueueObserver } from '../queue/index.js';
import type { AgentMetrics } from './metrics.js';

/** IOCTL calls, errors and latency by operation; event-port connection state. */
export function driverMetricsObserver(metrics: AgentMetrics): DriverObserver {
  return {
    ioctl(op, seconds, error) {
      // Label values in Prometheus style: APPLY → apply, LIST_RULES → list_rules.
      const operation = op.toLowerCase();
      metrics.ioctlCalls.inc({ operation });
      metrics.ioctlDuration.observe({ operation }, seconds);
      if (error) metrics.ioctlErrors.inc({ operation });
    },
    portConnected(connected) {
      metrics.driverPortConnected.set(connected ? 1 : 0);
    },
  };
}

/** Depth and retries of the work queue called `name`. */
export function workQueueMetricsObserver(metrics: AgentMetrics, name: string): WorkQueueObserver {
  metrics.workQueueDepth.set({ name }, 0);
  metrics.workQueueRetries.inc({ name }, 0);
  return {
    depth: (depth) => metrics.workQueueDepth.set({ name }, depth),
    retry: () => metrics.workQueueRetries.inc({ name }),
  };
}
