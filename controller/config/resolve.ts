/**
 * From a schema-valid object to an AgentConfig: platform-dependent defaults, derived
 * defaults (paths under stateDir, node labels) and relative paths made absolute against
 * the config file's directory.
 */
import { canonicalListenAddress, isUnixAddress, unixSocketPath, UNIX_PREFIX } from './address.js';
import type { PlatformDefaults } from './platform.js';
import { WINDOWS_DEVICE, WINDOWS_PORT } from './platform.js';
import type { AgentConfig } from './types.js';

export interface ResolveContext {
  /** Directory relative paths in the file are resolved against. */
  baseDir: string;
  configPath?: string;
  hostName: string;
  platform: PlatformDefaults;
}

type Raw = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

export function resolveConfig(raw: Raw, ctx: ResolveContext): AgentConfig {
  const abs = (p: string | undefined): string | undefined => (p === undefined ? undefined : ctx.platform.paths.resolve(ctx.baseDir, p));
  const c = structuredClone(raw) as Raw;
  c.configPath = ctx.configPath;
  c.hostName ??= ctx.hostName;
  c.stateDir = abs(c.stateDir ?? ctx.platform.stateDir);
  resolveDriver(c, ctx, abs);
  c.sources.files.paths = (c.sources.files.paths as string[]).map((p) => abs(p)!);
  c.sources.crd.kubeconfig = abs(c.sources.crd.kubeconfig);
  c.grpc.address = listenAddress(c.grpc.address as string, abs);
  c.metrics.address = canonicalListenAddress(c.metrics.address as string);
  if (c.grpc.tls) for (const k of ['certFile', 'keyFile', 'clientCaFile']) c.grpc.tls[k] = abs(c.grpc.tls[k]);
  c.outputs.file.path = abs(c.outputs.file.path) ?? ctx.platform.paths.join(c.stateDir, 'events.jsonl');
  c.logging.file = abs(c.logging.file) ?? ctx.platform.logFile;
  c.nodeLabels = nodeLabels(c);
  return deepFreeze(dropUndefined(c)) as AgentConfig;
}

/** `localhost` as the loopback address itself; a relative `unix:` socket path made absolute. */
function listenAddress(address: string, abs: (p: string | undefined) => string | undefined): string {
  return isUnixAddress(address) ? `${UNIX_PREFIX}${abs(unixSocketPath(address))}` : canonicalListenAddress(address);
}

function resolveDriver(c: Raw, ctx: ResolveContext, abs: (p: string | undefined) => string | undefined): void {
  const d = c.driver;
  d.kind ??= ctx.platform.driverKind;
  const e = d.emulator;
  e.library = abs(e.library);
  e.daemon = abs(e.daemon);
  e.dir = abs(e.dir) ?? ctx.platform.paths.join(c.stateDir, 'emulator');
  if (d.kind === 'windows') {
    d.device ??= WINDOWS_DEVICE;
    return;
  }
  // The emulated kernel's device and port are the sockets it creates in its directory.
  d.device = abs(d.device) ?? ctx.platform.paths.join(e.dir, 'Karmor');
  d.port = d.port === undefined || d.port === WINDOWS_PORT ? ctx.platform.paths.join(e.dir, 'KarmorPort') : abs(d.port);
}

/** The labels host policies select on; explicit labels in the file win. */
function nodeLabels(c: Raw): Record<string, string> {
  const windowsNode = c.driver.kind === 'windows' || c.driver.emulator.flavor === 'windows';
  return { 'kubearmor.io/hostname': c.hostName, 'kubernetes.io/os': windowsNode ? 'windows' : 'linux', ...c.nodeLabels };
}

function dropUndefined(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(dropUndefined);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => [k, dropUndefined(v)]));
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
