/** Readiness as /readyz reports it: one result per part of the agent, and their conjunction. */
export interface HealthStatus {
  ok: boolean;
  /** Why not ok (or a note when ok), e.g. `not in sync: files`. */
  reason?: string;
}

export interface CheckResult extends HealthStatus {
  name: string;
}

export interface Readiness {
  ok: boolean;
  checks: CheckResult[];
}

/** Kubernetes-style report: `[+]driver ok`, `[-]sources not in sync: files`, then a verdict. */
export function formatReadiness(readiness: Readiness, verbose: boolean): string {
  if (readiness.ok && !verbose) return 'ok\n';
  const lines = readiness.checks.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} ${c.reason ?? 'failed'}`));
  lines.push(readiness.ok ? 'readyz check passed' : 'readyz check failed');
  return lines.join('\n') + '\n';
}
