/**
 * The event pipeline: decoded driver event batches become KubeArmor `Alert`s (matched
 * rules and default posture), `Log`s (host telemetry) and `SystemEvent` messages (lost
 * events), enriched from the policy provenance, with KubeArmor time fields, delivered
 * to EventSinks (the gRPC LogBroker, the JSON-lines outputs). Its input is the driver
 * client's HostEvents (DOS paths, Unix time): no Windows ABI type reaches here.
 * See docs/events.md.
 */
export { EventPipeline, PIPELINE_DEFAULTS, type EventPipelineOptions, type PipelineStats } from './pipeline.js';
export { BUILDER_DEFAULTS, RESULT_DENIED, RESULT_PASSED, resultText, type HostTelemetry, type RecordBuilderOptions } from './build.js';
export { DEFAULT_POSTURE_POLICY } from './enrich.js';
export { microsToEventTime, unixMillisToEventTime, type EventTime } from './time.js';
export { describeLoss } from './drops.js';
export type { AlertRecord, LogRecord, MessageRecord, EventSink, DropStage } from './types.js';
export { publisherSink, type LogPublisher } from './sinks.js';
