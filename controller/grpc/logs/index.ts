/**
 * The KubeArmor-compatible log feed: LogBroker (what the event pipeline publishes to)
 * and feeder.LogService (what karmor logs and kubearmor-relay subscribe to).
 */
export { LogBroker, LOG_STREAMS } from './broker.js';
export type { LogBrokerOptions, LogStream, Subscription } from './broker.js';
export { logServiceBinding, logServiceDefinition } from './service.js';
export { registerLogMetrics } from './metrics.js';
export { dropNotice, rfc3339Micro } from './notice.js';
export { encodeAlert, encodeLog, encodeMessage } from './encode.js';
export type { NoticeContext } from './notice.js';
