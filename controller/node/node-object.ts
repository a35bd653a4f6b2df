/**
 * The node as upstream KubeArmor describes it in StateAgent `node` events (its Go type
 * `Node`, JSON field names as upstream's), with this machine's values. Outside a cluster
 * there is no kubelet or container runtime: those fields stay empty, as upstream leaves
 * them on a host without Kubernetes.
 */
import { arch, networkInterfaces, platform, release, uptime, version } from 'node:os';
import { readFileSync } from 'node:fs';
import { machineId } from './machine-id.js';

export interface NodeObject {
  clusterName: string;
  nodeName: string;
  nodeIP: string;
  nodeID: string;
  annotations: Record<string, string>;
  labels: Record<string, string>;
  identities: string[];
  architecture: string;
  operatingSystem: string;
  osImage: string;
  kernelVersion: string;
  kubeletVersion: string;
  containerRuntimeVersion: string;
  last_updated_at: string;
  policyEnabled: number;
  processVisibilityEnabled: boolean;
  fileVisibilityEnabled: boolean;
  networkVisibilityEnabled: boolean;
  capabilitiesVisibilityEnabled: boolean;
}

export interface NodeInput {
  clusterName: string;
  nodeName: string;
  labels: Record<string, string>;
  /** Which host events are reported (config hostTelemetry). */
  visibility: { process: boolean; file: boolean };
}

/** Upstream's KubeArmorPolicyEnabled: this agent enforces policies. */
export const POLICY_ENABLED = 1;

/** Node's architecture names → Go's GOARCH, as upstream reports them. */
const GOARCH: Record<string, string> = { x64: 'amd64', ia32: '386', arm64: 'arm64', arm: 'arm' };
const GOOS: Record<string, string> = { win32: 'windows', linux: 'linux', darwin: 'darwin' };

export function nodeObject(input: NodeInput): NodeObject {
  return {
    clusterName: input.clusterName,
    nodeName: input.nodeName,
    nodeIP: externalAddress() ?? '',
    nodeID: machineId(input.nodeName),
    annotations: {},
    labels: { ...input.labels },
    // As upstream: each label as key=value, the node's identities for selection.
    identities: Object.entries(input.labels).map(([k, v]) => `${k}=${v}`).sort(),
    architecture: GOARCH[arch()] ?? arch(),
    operatingSystem: GOOS[platform()] ?? platform(),
    osImage: osImage(),
    kernelVersion: release(),
    kubeletVersion: '',
    containerRuntimeVersion: '',
    last_updated_at: bootTime(),
    policyEnabled: POLICY_ENABLED,
    processVisibilityEnabled: input.visibility.process,
    fileVisibilityEnabled: input.visibility.file,
    networkVisibilityEnabled: false,
    capabilitiesVisibilityEnabled: false,
  };
}

/** The first non-internal IPv4 address, as upstream's GetExternalIPAddr. */
function externalAddress(): string | undefined {
  for (const addresses of Object.values(networkInterfaces())) {
    const found = addresses?.find((a) => a.family === 'IPv4' && !a.internal);
    if (found) return found.address;
  }
  return undefined;
}

/** Windows: the edition ("Windows Server 2022 Datacenter"); Linux: os-release's PRETTY_NAME. */
function osImage(): string {
  if (platform() === 'win32') return version();
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? version();
  } catch {
    return version();
  }
}

/** When the machine booted, in Go's time.String() form as upstream sends it ("2026-12-01 14:02:00 +0000 UTC"). */
export function bootTime(now = Date.now(), upSeconds = uptime()): string {
  const iso = new Date(Math.floor((now - upSeconds * 1000) / 1000) * 1000).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} +0000 UTC`;
}
