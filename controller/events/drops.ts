/**
 * Lost events are never silent: the driver's drops (ring full, reported in the batch
 * header) and the pipeline's own (its queue full) are counted apart, logged, and
 * announced to subscribers as a KubeArmor `SystemEvent` message. Announcements are
 * coalesced: the first loss is told at once, later ones at most once per interval.
 */
import type { Clock, TimerHandle } from '../clock/index.js';
import type { Logger } from '../observability/index.js';
import { unixMillisToEventTime } from './time.js';
import { Alert } from '../../proto/gen/feeder.js';
import type { AlertRecord, DropStage, EventSink, MessageRecord } from './types.js';


export interface DropReporterOptions {
  hostName: string;
  clusterName: string;
  hostIP: string;
  queueSize: number;
  intervalMs: number;
  clock: Clock;
  sinks: readonly EventSink[];
  logger?: Logger;
}

const WHERE: Record<DropStage, string> = {
  driver: 'by the driver (its event ring was full)',
  pipeline: 'by the agent pipeline (events.queueSize was full)',
};

export class DropReporter {
  readonly total: Record<DropStage, number> = { driver: 0, pipeline: 0 };
  private pending: Record<DropStage, number> = { driver: 0, pipeline: 0 };
  private lastReport = -Infinity;
  private timer: TimerHandle | undefined;

  constructor(private readonly o: DropReporterOptions) {}

  add(stage: DropStage, count: number): void {
    if (count <= 0) return;
    this.total[stage] += count;
    this.pending[stage] += count;
  }

  /** Announce pending losses if the interval allows (or `force`, at shutdown). */
  report(force = false): void {
    const { driver, pipeline } = this.pending;
    if (driver + pipeline === 0) return;
    const now = this.o.clock.now();
    const wait = this.lastReport + this.o.intervalMs - now;
    if (!force && wait > 0) {
      this.timer ??= this.o.clock.setTimeout(() => { this.timer = undefined; this.report(); }, wait);
      return;
    }
    this.lastReport = now;
    this.pending = { driver: 0, pipeline: 0 };
    const text = describeLoss(driver, pipeline);
    this.o.logger?.warn(text, { droppedByDriver: driver, droppedByPipeline: pipeline, queueSize: this.o.queueSize });
    const message = this.message(now, text);
    // Also in the alert stream: `karmor logs` watches alerts only, and losses must not be silent there.
    const alert = this.alert(message, driver, pipeline);
    for (const sink of this.o.sinks) {
      try {
        sink.message(message);
        sink.alert(alert);
      } catch (err) { this.o.logger?.error('event sink failed', { err }); }
    }
  }

  stop(): void {
    if (this.timer) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private message(now: number, text: string): MessageRecord {
    const t = unixMillisToEventTime(now);
    return {
      Timestamp: t.seconds, UpdatedTime: t.text, ClusterName: this.o.clusterName, HostName: this.o.hostName,
      HostIP: this.o.hostIP, Type: 'SystemEvent', Level: 'WARN', Message: text,
    };
  }

  private alert(m: MessageRecord, driver: number, pipeline: number): AlertRecord {
    return Alert.fromPartial({
      Timestamp: m.Timestamp, UpdatedTime: m.UpdatedTime, ClusterName: m.ClusterName, HostName: m.HostName,
      Type: 'SystemEvent', Operation: 'Dropped', Message: m.Message, Data: `driver=${driver} pipeline=${pipeline}`, Enforcer: 'kawin',
    });
  }
}

export function describeLoss(driver: number, pipeline: number): string {
  const parts: string[] = [];
  if (driver > 0) parts.push(`${driver} ${WHERE.driver}`);
  if (pipeline > 0) parts.push(`${pipeline} ${WHERE.pipeline}`);
  const n = driver + pipeline;
  return `kawin lost ${n} event${n === 1 ? '' : 's'}: ${parts.join(', ')}`;
}
