/**
 * LogService metrics. The hot path only bumps plain numbers in the broker; prom-client
 * reads them at scrape time, so publishing costs no label lookups.
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import { LOG_STREAMS, type LogBroker } from './broker.js';

export function registerLogMetrics(broker: LogBroker, registry: Registry): void {
  const reported = new Map<string, number>();
  const catchUp = (counter: Counter<'stream'>, key: 'sent' | 'dropped'): void => {
    for (const stream of LOG_STREAMS) {
      const id = `${key}:${stream}`;
      const now = key === 'dropped' ? broker.dropped(stream) : broker.counters[stream][key];
      const delta = now - (reported.get(id) ?? 0);
      if (delta > 0) counter.inc({ stream }, delta);
      reported.set(id, now);
    }
  };
  new Gauge({
    name: 'kawin_grpc_subscribers',
    help: 'Live LogService subscribers by stream',
    labelNames: ['stream'],
    registers: [registry],
    collect() {
      for (const stream of LOG_STREAMS) this.set({ stream }, broker.subscriberCount(stream));
    },
  });
  new Gauge({
    name: 'kawin_grpc_subscriber_queued_bytes',
    help: 'Bytes kept for LogService subscribers that are behind: one shared window per stream, each bounded by grpc.subscriberQueueBytes',
    registers: [registry],
    collect() { this.set(broker.queued.bytes); },
  });
  let refusedReported = 0;
  new Counter({
    name: 'kawin_grpc_subscribers_refused_total',
    help: 'LogService subscriptions refused with RESOURCE_EXHAUSTED because grpc.maxSubscribers were connected',
    registers: [registry],
    collect() {
      if (broker.refused > refusedReported) this.inc(broker.refused - refusedReported);
      refusedReported = broker.refused;
    },
  });
  new Counter({
    name: 'kawin_grpc_messages_sent_total',
    help: 'Messages written to LogService subscribers, by stream (one per subscriber)',
    labelNames: ['stream'],
    registers: [registry],
    collect() { catchUp(this, 'sent'); },
  });
  new Counter({
    name: 'kawin_grpc_messages_dropped_total',
    help: 'Messages dropped because a subscriber queue was full (drop-oldest), by stream',
    labelNames: ['stream'],
    registers: [registry],
    collect() { catchUp(this, 'dropped'); },
  });
}
