/**
 * Node identity: the agent's own Node object, watched (one object, by field selector),
 * so that its labels are the labels host policies select on. A label change re-selects
 * and reconciles at once. The name comes from `sources.crd.node.name`, else the downward
 * API's NODE_NAME, else the agent's hostName.
 */
import type { AgentConfig } from '../../config/index.js';
import type { Clock } from '../../clock/index.js';
import type { Logger } from '../../observability/index.js';
import type { KubeApi } from './client.js';
import { Reflector, type ReflectorObserver, type ReflectorSettings } from './reflector.js';
import type { KubeObject } from './types.js';

export function nodeNameOf(config: AgentConfig, env: NodeJS.ProcessEnv = process.env): string {
  return config.sources.crd.node.name ?? (env.NODE_NAME || undefined) ?? config.hostName;
}

export interface NodeWatchOptions {
  api: KubeApi;
  name: string;
  clock: Clock;
  logger: Logger;
  settings: ReflectorSettings;
  observer?: ReflectorObserver;
  /** The Node's labels, whenever they change (first call: the first time they are known). */
  labels(labels: Record<string, string>): void;
  failed(error: Error): void;
}

export class NodeWatch {
  private readonly reflector: Reflector;
  private current: string | undefined;

  constructor(private readonly options: NodeWatchOptions) {
    this.reflector = new Reflector({
      api: options.api, path: '/api/v1/nodes', query: { fieldSelector: `metadata.name=${options.name}` },
      clock: options.clock, settings: options.settings, observer: options.observer,
      handler: {
        replaced: (objects) => {
          const node = objects.find((o) => o.metadata.name === options.name);
          if (node) this.seen(node);
          else options.failed(new Error(`Node ${options.name} not found: set sources.crd.node.name or NODE_NAME (downward API)`));
        },
        upserted: (node) => this.seen(node),
        deleted: () => options.logger.warn('this Node was deleted: its last labels stay in use', { node: options.name }),
        failed: (error) => options.failed(error),
      },
    });
  }

  /** True once the Node's labels are known. */
  get known(): boolean { return this.current !== undefined; }
  get problem(): string | undefined { return this.reflector.problem; }

  start(): void { this.reflector.start(); }
  stop(): Promise<void> { return this.reflector.stop(); }

  private seen(node: KubeObject): void {
    const labels = node.metadata.labels ?? {};
    const text = JSON.stringify(Object.entries(labels).sort(([a], [b]) => a.localeCompare(b)));
    if (text === this.current) return;
    const first = this.current === undefined;
    this.current = text;
    this.options.logger.info(first ? 'node labels read from the Node object' : 'node labels changed: host policies are selected again', {
      node: this.options.name, labels: Object.keys(labels).length,
    });
    this.options.labels({ ...labels });
  }
}
