/** The agent's resolved configuration: every default filled in, every path absolute. */
export type DriverKind = 'windows' | 'emulator';
export type Posture = 'audit' | 'block';
export type PolicyKind = 'KubeArmorHostPolicy' | 'KubeArmorPolicy' | 'KubeArmorClusterPolicy';
export type SourceKind = 'crd' | 'files' | 'grpc';
export type LogLevel = 'error' | 'warn' | 'info' | 'debug';
export type LogFormat = 'auto' | 'json' | 'text';

export interface EmulatorConfig {
  /** The shim library (libkawin_emu.so); absent: the driver module's built-in location. */
  library?: string;
  /** The emulated kernel executable; absent: the driver module's built-in location. */
  daemon?: string;
  /** Where the emulated kernel keeps its sockets (default `<stateDir>/emulator`). */
  dir: string;
  flavor: 'windows' | 'posix';
  /** DOS drive → NT device (`"C:": "\\Device\\HarddiskVolume3"`). */
  drives: Record<string, string>;
  ringCapacity: number;
}

export interface DriverSettings {
  kind: DriverKind;
  /** `\\.\Karmor` on Windows; the device socket path with the emulator. */
  device: string;
  port: string;
  emulator: EmulatorConfig;
}

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
  files: { enabled: boolean; paths: string[]; debounceMs: number; maxFileBytes: number; rescanIntervalSeconds: number };
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
  grpc: { address: string; tls?: TlsConfig; subscriberQueueSize: number; maxMessageBytes: number };
  events: { queueSize: number };
  outputs: { stdout: OutputToggles; file: OutputToggles & { path: string; maxBytes: number; maxFiles: number } };
  metrics: { enabled: boolean; address: string };
  stateDir: string;
  logging: { level: LogLevel; file?: string; format: LogFormat };
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
