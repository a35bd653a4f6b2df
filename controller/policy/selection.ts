/**
 * Which policies apply to this node. Host policies select nodes by
 * `nodeSelector.matchLabels`; `kubearmor.io/hostname` also takes `*` and comma lists,
 * as upstream. Container and cluster policies need container identity, a later
 * capability: they are reported as not enforced here, never silently dropped.
 */
import type { Policy } from './types.js';

export const HOSTNAME_LABEL = 'kubearmor.io/hostname';
export type NodeLabels = Readonly<Record<string, string>>;

export interface Selection {
  /** The policy's selector matches this node. */
  selected: boolean;
  /** Its rules are in the driver (selected, and its kind is enforced on this node). */
  enforced: boolean;
  reason: string;
}

export function selectPolicy(policy: Policy, nodeLabels: NodeLabels): Selection {
  if (policy.selector.type !== 'node') {
    return { selected: false, enforced: false, reason: `${policy.identity.kind} is validated but not enforced on this node yet: kawin enforces host policies (container identity is a later capability)` };
  }
  const entries = Object.entries(policy.selector.matchLabels);
  if (entries.length === 0) return { selected: true, enforced: true, reason: 'an empty nodeSelector selects every node' };
  for (const [key, wanted] of entries) {
    const actual = nodeLabels[key];
    if (!labelMatches(key, wanted, actual)) {
      return { selected: false, enforced: false, reason: `nodeSelector ${key}=${wanted} does not match this node (${key}=${actual ?? '<unset>'})` };
    }
  }
  return { selected: true, enforced: true, reason: 'nodeSelector matches this node' };
}

function labelMatches(key: string, wanted: string, actual: string | undefined): boolean {
  if (key !== HOSTNAME_LABEL) return actual === wanted;
  if (wanted.trim() === '*') return true;
  if (actual === undefined) return false;
  // Host names are case-insensitive.
  const host = actual.toLowerCase();
  return wanted.split(',').some((name) => name.trim().toLowerCase() === host);
}

/** Parses `k=v,k2=v2` (the CLI's --node-labels); an entry without `=` is an error. */
export function parseNodeLabels(text: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw new Error(`node label "${part}" is not key=value`);
    labels[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return labels;
}
