/**
 * Observability: the structured logger, the Prometheus metrics registry with the
 * agent's metrics, and the HTTP listener serving /metrics, /healthz and /readyz.
 */
export { createLogger } from './log.js';
export type { Logger, RootLogger, LoggingOptions, LogFormat, LogLevel, LogFields, LogLine } from './log.js';
export { MemoryLogger, silentLogger } from './log-memory.js';
export { createAgentMetrics, METRIC_PREFIX, RECONCILE_RESULTS, POLICY_STATES } from './metrics.js';
export type { AgentMetrics, MetricsOptions } from './metrics.js';
export { driverMetricsObserver, workQueueMetricsObserver } from './observers.js';
export { formatReadiness } from './health.js';
export type { HealthStatus, CheckResult, Readiness } from './health.js';
export { startObservabilityServer } from './http.js';
export type { ObservabilityServer, ObservabilityServerOptions } from './http.js';
export { planConnections, descriptorLimit, DescriptorBudgetError } from './descriptors.js';
export type { ConnectionBudget, PortBounds } from './descriptors.js';
