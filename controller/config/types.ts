/** The agent's resolved configuration: every default filled in, every path absolute. */
export type Posture = 'audit' | 'block';
export type PolicyKind = 'KubeArmorHostPolicy' | 'KubeArmorPolicy' | 'KubeArmorClusterPolicy';
export type SourceKind = 'crd' | 'files' | 'grpc';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'auto' | 'json' | 'text';

/** The driver section: a registered backend kind and its settings (driver/backends). */
export type { DriverSettings, EmulatorSettings as EmulatorConfig } from '../../driver/backends/index.js';
import type { DriverSettings } from '../../driver/backends/index.js';

export interface TlsConfig {
  certFile: string;
  keyFile: string;
  /** Present: clients must present a certificate signed by this CA (mutual TLS). */
  clientCaFile?: string;
}

export interface CrdSourceConfig {
  enabled: boolean;
  kubeconfig?: string;
  kinds: PolicyKind[];
  /** This node's Node object (labels); name default: NODE_NAME, else hostName. */
  node: { enabled: boolean; name?: string };
  requestTimeoutSeconds: number;
  listPageSize: number;
  watchTimeoutSeconds: number;
  watchSilenceSeconds: number;
  relistIntervalSeconds: number;
  backoff: { initialMs: number; maxMs: number };
  events: { enabled: boolean; burst: number; refillSeconds: number; seriesWindowSeconds: number; seriesIntervalSeconds: number };
}

export interface SourcesConfig {
  files: { enabled: boolean; paths: string[]; debounceMs: number; debounceMaxWaitMs: number; maxFileBytes: number; rescanIntervalSeconds: number };
  grpc: { enabled: boolean; kinds: PolicyKind[] };
  crd: CrdSourceConfig;
  /** Which source wins when two hold the same policy identity, strongest first. */
  precedence: SourceKind[];
}

export interface OutputToggles {
  enabled: boolean;
  alerts: boolean;
  logs: boolean;
}

export interface AgentConfig {
  /** The file this config was read from; undefined when only defaults apply. */
  configPath?: string;
  hostName: string;
  clusterName: string;
  /** Includes kubearmor.io/hostname and kubernetes.io/os. */
  nodeLabels: Record<string, string>;
  driver: DriverSettings;
  postures: { process: Posture; file: Posture; network: Posture; registry: Posture };
  hostTelemetry: { process: boolean; file: boolean };
  sources: SourcesConfig;
  reconcile: { resyncIntervalSeconds: number; resyncJitter: number; backoff: { initialMs: number; maxMs: number } };
  grpc: {
    address: string; tls?: TlsConfig; subscriberQueueSize: number; subscriberQueueBytes: number; maxSubscribers: number;
    maxConcurrentDiffs: number; maxMessageBytes: number; maxConnectionIdleSeconds: number; maxConcurrentStreams: number;
    maxConnections: number; maxConnectionsPerPeer: number; handshakeTimeoutSeconds: number; keepaliveSeconds: number; keepaliveTimeoutSeconds: number;
  };
  events: { queueSize: number };
  outputs: { stdout: OutputToggles; file: OutputToggles & { path: string; maxBytes: number; maxFiles: number } };
  metrics: {
    enabled: boolean; address: string;
    maxConnections: number; maxConnectionsPerPeer: number; idleTimeoutSeconds: number; requestTimeoutSeconds: number;
  };
  stateDir: string;
  /** Descriptors kept for the agent's own work; the connection bounds fit in RLIMIT_NOFILE minus this. */
  reservedDescriptors: number;
  /** Longest a shutdown (signal or fatal error) may take before the process exits anyway. */
  shutdownTimeoutSeconds: number;
  /** `file` rotates beyond maxFileBytes, keeping maxFiles files (the newest is `file`). */
  logging: { level: LogLevel; file?: string; maxFileBytes: number; maxFiles: number; format: LogFormat };
}

/** Command-line flags that override the file (`--policies` may repeat). */
export interface ConfigOverrides {
  policyDirs?: string[];
  driverKind?: string;
  grpcAddress?: string;
  metricsAddress?: string;
  stateDir?: string;
  logLevel?: string;
}
