/**
 * Sources of desired state. A source only reports what it holds; the desired store
 * (controller/store) parses, validates and keeps last-known-good versions, so every
 * source gets the same validation and the same error reporting.
 *
 * A source kind is registered once (controller/sources/registry.ts) as a factory; the
 * agent creates every enabled kind and starts it as a runnable. Beyond start/stop, a
 * source may offer optional capabilities — the agent asks for them, it never branches on
 * the source's name.
 */
import type { AgentConfig, SourceKind } from '../config/index.js';
import type { Clock } from '../clock/index.js';
import type { AgentMetrics, Logger } from '../observability/index.js';
import type { GrpcServiceBinding, PeerPolicy } from '../grpc/index.js';
import type { PolicyIdentity, Problem } from '../store/types.js';

export type { PrepareProgress, SourceDocument, SourceSink } from '../store/types.js';
import type { SourceSink } from '../store/types.js';

/** Where one policy of a source stands after a reconcile (what a source may report back). */
export interface PolicyOutcome {
  key: string;
  identity: PolicyIdentity;
  origin: string;
  state: 'applied' | 'partial' | 'pending' | 'invalid' | 'last_known_good' | 'not_selected' | 'not_enforced';
  /** Why the state is not plainly `applied`, in words. */
  reasons: string[];
  problems: Problem[];
  ruleCount: number;
}

export interface PolicySource {
  /** The source's name in the store, status and metrics (its kind for registered kinds). */
  readonly name: string;
  start(sink: SourceSink): Promise<void>;
  stop(): Promise<void>;
  /** Follow a new valid config live (absent: the source is recreated when its section changes). */
  configure?(config: AgentConfig): Promise<void>;
  /** Capability: the raw text of a unit this source holds (admin `policy get`). */
  readDocument?(origin: string): Promise<string | undefined>;
  /** Capability: delete a policy this source holds (admin `policy delete`). */
  deletePolicy?(identity: PolicyIdentity): Promise<{ deleted: boolean; message: string }>;
  /** Capability: gRPC services this source serves (the gRPC source's PolicyService). */
  grpcServices?(peers: PeerPolicy): GrpcServiceBinding[];
  /** Capability: rescan now (SIGHUP, admin). */
  rescan?(): Promise<void>;
  /**
   * Capability: feedback. Called after reconciles with the outcome of every policy this
   * source contributes (and of policies it held that are gone: state absent → removed).
   * The CRD source turns changes into Kubernetes Events.
   */
  observeOutcomes?(outcomes: readonly PolicyOutcome[], removed: readonly PolicyIdentity[]): void;
  /** Readiness beyond "in sync" (e.g. a watch that went silent); undefined = fine. */
  unhealthy?(): string | undefined;
}

/** The validation every source gets (a dry run of the store's parser). */
export type PolicyValidator = (text: string, location: string) => { identity?: PolicyIdentity; errors: Problem[] };

/** What a source factory is given. */
export interface SourceContext {
  config: AgentConfig;
  clock: Clock;
  logger: Logger;
  metrics: AgentMetrics;
  validate: PolicyValidator;
  /** Node labels learnt by a source (the CRD source's Node watch); merged over the config's. */
  setNodeLabels(labels: Record<string, string>): void;
}

/** One registered source kind: one folder under controller/sources plus one line in registry.ts. */
export interface SourceKindDefinition {
  kind: SourceKind;
  enabled(config: AgentConfig): boolean;
  /** May be async: a kind with heavy dependencies imports them here, only when enabled. */
  create(context: SourceContext): PolicySource | Promise<PolicySource>;
}
