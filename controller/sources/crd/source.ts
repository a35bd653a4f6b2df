/**
 * CrdSource: desired state from KubeArmor custom resources in a cluster. One reflector
 * per configured kind reports each object to the store as one SourceDocument (origin
 * `crd:<kind>/[<namespace>/]<name>`, the object's JSON as text); the store and compiler
 * decide what is enforced (KubeArmorHostPolicy) and what is reported not_enforced
 * (KubeArmorPolicy, KubeArmorClusterPolicy on a Windows node), as for every source.
 * In sync once every kind has been listed and, with the Node watch on, this node's labels
 * are known. While the API server cannot be reached the source reports `failed` and
 * removes nothing.
 */
import { createHash } from 'node:crypto';
import type { AgentConfig, PolicyKind } from '../../config/index.js';
import type { PolicyIdentity } from '../../store/types.js';
import type { PolicyOutcome, PolicySource, SourceContext, SourceSink } from '../types.js';
import { HttpKubeApi, loadKubeConfig, type KubeApi } from './client.js';
import { EventRecorder, type EventTarget } from './events.js';
import { OutcomeReporter } from './feedback.js';
import { crdMetrics, type CrdMetrics } from './metrics.js';
import { NodeWatch, nodeNameOf } from './node.js';
import { Reflector, type ReflectorObserver, type ReflectorSettings } from './reflector.js';
import { KUBEARMOR_GROUP, KUBEARMOR_VERSION, POLICY_RESOURCES, resourcePath, type KubeObject } from './types.js';

export const CRD_SOURCE = 'crd';

interface Held {
  kind: PolicyKind;
  text: string;
  target: EventTarget;
}

/** How the source reaches the API server; tests may hand in their own KubeApi. */
export type KubeApiFactory = (config: AgentConfig) => KubeApi;

export const httpKubeApi: KubeApiFactory = (config) => new HttpKubeApi(loadKubeConfig(config.sources.crd.kubeconfig), {
  userAgent: `kawin/${nodeNameOf(config)}`, requestTimeoutMs: config.sources.crd.requestTimeoutSeconds * 1000,
});

export function crdOrigin(identity: PolicyIdentity): string {
  return `crd:${identity.kind}/${identity.namespace ? `${identity.namespace}/` : ''}${identity.name}`;
}

export class CrdSource implements PolicySource {
  readonly name = CRD_SOURCE;
  private config: AgentConfig;
  private sink: SourceSink | undefined;
  private readonly held = new Map<string, Held>();
  /** Targets of deleted objects, until their removal has been reported. */
  private readonly deleted = new Map<string, EventTarget>();
  private reflectors = new Map<PolicyKind, Reflector>();
  private listed = new Set<PolicyKind>();
  private node: NodeWatch | undefined;
  private recorder: EventRecorder | undefined;
  private reporter: OutcomeReporter | undefined;
  private readonly metrics: CrdMetrics;

  constructor(private readonly context: SourceContext, private readonly apiFactory: KubeApiFactory = httpKubeApi) {
    this.config = context.config;
    this.metrics = crdMetrics(context.metrics.registry);
  }

  async start(sink: SourceSink): Promise<void> {
    this.sink = sink;
    this.build();
  }

  /** New settings: the watches restart with them; what is held stays until the next list. */
  async configure(config: AgentConfig): Promise<void> {
    const same = JSON.stringify(config.sources.crd) === JSON.stringify(this.config.sources.crd) && nodeNameOf(config) === nodeNameOf(this.config);
    if (same) {
      this.config = config;
      return;
    }
    await this.teardown();
    this.config = config;
    if (this.sink) this.build();
  }

  async stop(): Promise<void> {
    await this.teardown();
    this.sink = undefined;
  }

  async readDocument(origin: string): Promise<string | undefined> {
    return this.held.get(origin)?.text;
  }

  observeOutcomes(outcomes: readonly PolicyOutcome[], removed: readonly PolicyIdentity[]): void {
    this.reporter?.observe(outcomes, removed);
    for (const identity of removed) this.deleted.delete(crdOrigin(identity));
  }

  unhealthy(): string | undefined {
    const problems = [...this.reflectors].map(([kind, r]) => (r.problem ? `${kind}: ${r.problem}` : undefined));
    problems.push(this.node?.problem && `Node: ${this.node.problem}`);
    const list = problems.filter(Boolean);
    return list.length ? list.join('; ') : undefined;
  }

  private build(): void {
    const crd = this.config.sources.crd;
    const api = this.apiFactory(this.config);
    const settings = reflectorSettings(this.config);
    const nodeName = nodeNameOf(this.config);
    this.listed = new Set();
    for (const kind of crd.kinds) {
      const resource = POLICY_RESOURCES[kind];
      const reflector = new Reflector({
        api, path: resourcePath(resource), clock: this.context.clock, settings, observer: this.observer(resource.plural),
        handler: {
          replaced: (objects) => this.replaced(kind, objects),
          upserted: (object) => { this.upsert(kind, object); this.reportSynced(); },
          deleted: (object) => { this.remove(originOf(kind, object)); this.reportSynced(); },
          failed: (error) => this.failed(`${kind}: ${error.message}`, error),
        },
      });
      this.reflectors.set(kind, reflector);
    }
    if (crd.node.enabled) {
      this.node = new NodeWatch({
        api, name: nodeName, clock: this.context.clock, logger: this.context.logger, settings, observer: this.observer('nodes'),
        labels: (labels) => { this.context.setNodeLabels(labels); this.reportSynced(); },
        failed: (error) => this.failed(`Node ${nodeName}: ${error.message}`, error),
      });
    }
    if (crd.events.enabled) {
      this.recorder = new EventRecorder({
        api, clock: this.context.clock, logger: this.context.logger, settings: crd.events, instance: nodeName,
        observer: { wrote: (write) => this.metrics.events.inc({ result: write }) },
      });
      this.reporter = new OutcomeReporter(this.recorder, { target: (o) => this.held.get(o)?.target ?? this.deleted.get(o), originOf: crdOrigin }, nodeName);
    }
    for (const r of this.reflectors.values()) r.start();
    this.node?.start();
  }

  private async teardown(): Promise<void> {
    await Promise.all([...this.reflectors.values()].map((r) => r.stop()));
    await this.node?.stop();
    await this.recorder?.close();
    this.reflectors = new Map();
    this.node = this.recorder = this.reporter = undefined;
  }

  private observer(resource: string): ReflectorObserver {
    return {
      listed: (count) => {
        this.metrics.lists.inc({ resource });
        this.metrics.objects.set({ resource }, count);
      },
      restarted: (reason, error) => {
        this.metrics.watchRestarts.inc({ resource, reason });
        if (reason === 'gone' || reason === 'silent') this.context.logger.info('watch restarted', { resource, reason, error: error?.message });
      },
    };
  }

  /** A complete list: the kind's whole set. Objects missing from it are gone (the list succeeded whole). */
  private replaced(kind: PolicyKind, objects: KubeObject[]): void {
    const present = new Set<string>();
    for (const object of objects) present.add(this.upsert(kind, object));
    for (const [origin, held] of [...this.held]) if (held.kind === kind && !present.has(origin)) this.remove(origin);
    this.listed.add(kind);
    this.reportSynced();
  }

  private upsert(kind: PolicyKind, object: KubeObject): string {
    const origin = originOf(kind, object);
    const { managedFields: _managed, ...metadata } = object.metadata as KubeObject['metadata'] & { managedFields?: unknown };
    const { status: _status, ...rest } = object;
    const text = JSON.stringify({ ...rest, apiVersion: `${KUBEARMOR_GROUP}/${KUBEARMOR_VERSION}`, kind, metadata }, null, 2);
    const before = this.held.get(origin);
    this.held.set(origin, { kind, text, target: targetOf(kind, object) });
    this.deleted.delete(origin);
    if (before?.text !== text) {
      const where = `${kind} ${object.metadata.namespace ? `${object.metadata.namespace}/` : ''}${object.metadata.name}`;
      this.sink?.upsert(this.name, { origin, text, location: `${where} (resourceVersion ${object.metadata.resourceVersion ?? '?'})` });
    }
    return origin;
  }

  private remove(origin: string): void {
    const held = this.held.get(origin);
    if (!held) return;
    this.held.delete(origin);
    this.deleted.set(origin, held.target);
    this.sink?.remove(this.name, origin);
  }

  private failed(message: string, cause: Error): void {
    this.context.logger.warn('cannot read policies from the API server: what was read stays in force', { error: message });
    this.sink?.failed(this.name, new Error(message, { cause }));
  }

  private reportSynced(): void {
    const crd = this.config.sources.crd;
    if (!crd.kinds.every((k) => this.listed.has(k)) || (this.node && !this.node.known)) return;
    const hash = createHash('sha256');
    for (const origin of [...this.held.keys()].sort()) hash.update(`${origin}@${this.held.get(origin)!.target.resourceVersion ?? ''}\n`);
    this.sink?.synced(this.name, hash.digest('hex').slice(0, 16));
  }
}

function originOf(kind: PolicyKind, object: KubeObject): string {
  const namespace = POLICY_RESOURCES[kind].namespaced ? object.metadata.namespace : undefined;
  return crdOrigin({ kind, namespace, name: object.metadata.name });
}

function targetOf(kind: PolicyKind, object: KubeObject): EventTarget {
  const { name, namespace, uid, resourceVersion, generation } = object.metadata;
  return { apiVersion: `${KUBEARMOR_GROUP}/${KUBEARMOR_VERSION}`, kind, name, namespace, uid, resourceVersion, generation };
}

export function reflectorSettings(config: AgentConfig): ReflectorSettings {
  const crd = config.sources.crd;
  return {
    pageSize: crd.listPageSize,
    watchTimeoutSeconds: crd.watchTimeoutSeconds,
    watchSilenceMs: crd.watchSilenceSeconds * 1000,
    relistIntervalMs: crd.relistIntervalSeconds * 1000,
    backoff: crd.backoff,
  };
}
