/**
 * Kubernetes Events (events.k8s.io/v1) on policy objects, the way the events API wants
 * them from a large fleet: the first occurrence creates an Event, repeats of the same
 * event within the series window only bump a local count that is patched into the
 * Event's `series` at most once per series interval, and each object has a token bucket
 * (burst, refill) so a flapping policy cannot flood the API server. What a limit drops is
 * counted, never silent. Writes go out one at a time, in order; a failed write is logged
 * and counted, and never affects enforcement.
 */
import { randomBytes } from 'node:crypto';
import type { Clock, TimerHandle } from '../../clock/index.js';
import type { Logger } from '../../observability/index.js';
import type { KubeApi } from './client.js';
import type { KubeObject } from './types.js';

export interface EventSettings {
  burst: number;
  refillSeconds: number;
  seriesWindowSeconds: number;
  seriesIntervalSeconds: number;
}

/** The object an Event is about. */
export interface EventTarget {
  apiVersion: string;
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  /** metadata.generation: which spec the outcome is about. */
  generation?: number;
}

export interface EventRecord {
  type: 'Normal' | 'Warning';
  reason: string;
  action: string;
  note: string;
}

export type EventWrite = 'created' | 'patched' | 'rate_limited' | 'failed';

export interface EventRecorderOptions {
  api: KubeApi;
  clock: Clock;
  logger: Logger;
  settings: EventSettings;
  /** This node: the Event's reportingInstance. */
  instance: string;
  observer?: EventRecorderObserver;
}

/** Told about every Event write (metrics). */
export interface EventRecorderObserver {
  wrote?(write: EventWrite): void;
}

export const REPORTING_CONTROLLER = 'kawin.io/agent';
/** Cluster-scoped objects get their Events in `default`, as client-go's recorders do. */
const CLUSTER_EVENTS_NAMESPACE = 'default';
const NOTE_LIMIT = 1024;

interface Series {
  name: string;
  namespace: string;
  count: number;
  lastObserved: number;
  flush?: TimerHandle;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class EventRecorder {
  private readonly series = new Map<string, Series>();
  private readonly buckets = new Map<string, Bucket>();
  private tail: Promise<unknown> = Promise.resolve();
  private readonly stopping = new AbortController();

  constructor(private readonly options: EventRecorderOptions) {}

  record(target: EventTarget, event: EventRecord): void {
    const now = this.options.clock.now();
    const key = [target.uid ?? `${target.kind}/${target.namespace ?? ''}/${target.name}`, event.type, event.reason, event.action, event.note].join('\0');
    this.forget(now);
    const known = this.series.get(key);
    if (known && now - known.lastObserved <= this.options.settings.seriesWindowSeconds * 1000) {
      known.count++;
      known.lastObserved = now;
      known.flush ??= this.options.clock.setTimeout(() => this.flush(known), this.options.settings.seriesIntervalSeconds * 1000);
      return;
    }
    if (known?.flush) this.options.clock.clearTimeout(known.flush);
    if (!this.take(target, now)) {
      this.options.observer?.wrote?.('rate_limited');
      return;
    }
    const entry: Series = { name: eventName(target.name), namespace: target.namespace ?? CLUSTER_EVENTS_NAMESPACE, count: 1, lastObserved: now };
    this.series.set(key, entry);
    this.enqueue(() => this.create(entry, target, event, now));
  }

  /** Flush pending series counts, then stop writing. */
  async close(): Promise<void> {
    for (const s of this.series.values()) {
      if (s.flush) {
        this.options.clock.clearTimeout(s.flush);
        this.flush(s);
      }
    }
    await this.tail;
    this.stopping.abort(new Error('event recorder closed'));
  }

  /** Series past their window are done: a new occurrence starts a new Event. */
  private forget(now: number): void {
    const windowMs = this.options.settings.seriesWindowSeconds * 1000;
    for (const [key, s] of this.series) if (!s.flush && now - s.lastObserved > windowMs) this.series.delete(key);
  }

  /** Per-object token bucket: `burst` Events, one more every `refillSeconds`. */
  private take(target: EventTarget, now: number): boolean {
    const { burst, refillSeconds } = this.options.settings;
    const id = target.uid ?? `${target.kind}/${target.namespace ?? ''}/${target.name}`;
    const bucket = this.buckets.get(id) ?? { tokens: burst, at: now };
    bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) / (refillSeconds * 1000));
    bucket.at = now;
    this.buckets.set(id, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens--;
    return true;
  }

  private flush(entry: Series): void {
    entry.flush = undefined;
    const body = { series: { count: entry.count, lastObservedTime: microTime(entry.lastObserved) } };
    this.enqueue(async () => {
      await this.options.api.send('PATCH', eventsPath(entry.namespace, entry.name), body, this.stopping.signal);
      this.options.observer?.wrote?.('patched');
    });
  }

  private async create(entry: Series, target: EventTarget, event: EventRecord, now: number): Promise<void> {
    const body: KubeObject = {
      apiVersion: 'events.k8s.io/v1',
      kind: 'Event',
      metadata: { name: entry.name, namespace: entry.namespace },
      eventTime: microTime(now),
      reportingController: REPORTING_CONTROLLER,
      reportingInstance: this.options.instance,
      action: event.action,
      reason: event.reason,
      note: truncate(event.note),
      type: event.type,
      regarding: {
        apiVersion: target.apiVersion, kind: target.kind, name: target.name, namespace: target.namespace,
        uid: target.uid, resourceVersion: target.resourceVersion,
      },
    };
    await this.options.api.send('POST', eventsPath(entry.namespace), body, this.stopping.signal);
    this.options.observer?.wrote?.('created');
  }

  /** One write at a time, in order (a series patch follows its create). */
  private enqueue(write: () => Promise<void>): void {
    this.tail = this.tail.then(write).catch((error: Error) => {
      this.options.observer?.wrote?.('failed');
      this.options.logger.warn('could not write a Kubernetes Event', { error: error.message });
    });
  }
}

function eventsPath(namespace: string, name?: string): string {
  return `/apis/events.k8s.io/v1/namespaces/${namespace}/events${name ? `/${name}` : ''}`;
}

function eventName(objectName: string): string {
  return `${objectName.slice(0, 230)}.${randomBytes(8).toString('hex')}`;
}

/** The API's MicroTime: RFC 3339 with six fractional digits. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function truncate(note: string): string {
  return Buffer.byteLength(note) <= NOTE_LIMIT ? note : `${Buffer.from(note).subarray(0, NOTE_LIMIT - 3).toString().replace(/\uFFFD$/, '')}...`;
}
