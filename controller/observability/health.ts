/** Named readiness checks the agent registers (driver, sources, first apply, …). */
export interface HealthStatus {
  ok: boolean;
  /** Why not ok (or a note when ok), e.g. `not in sync: files`. */
  reason?: string;
}

export type HealthCheck = () => HealthStatus | Promise<HealthStatus>;

export interface CheckResult extends HealthStatus {
  name: string;
}

export interface Readiness {
  ok: boolean;
  checks: CheckResult[];
}

export class HealthChecks {
  private readonly checks = new Map<string, HealthCheck>();

  /** Add or replace the check `name`; checks run in the order first added. */
  setCheck(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  removeCheck(name: string): void {
    this.checks.delete(name);
  }

  /** Run every check; a check that throws fails with its error message. */
  async readiness(): Promise<Readiness> {
    const checks = await Promise.all([...this.checks].map(([name, check]) => runCheck(name, check)));
    return { ok: checks.every((c) => c.ok), checks };
  }
}

async function runCheck(name: string, check: HealthCheck): Promise<CheckResult> {
  try {
    const status = await check();
    return { name, ...status };
  } catch (error) {
    return { name, ok: false, reason: `check failed: ${(error as Error).message}` };
  }
}

/** Kubernetes-style report: `[+]driver ok`, `[-]sources not in sync: files`, then a verdict. */
export function formatReadiness(readiness: Readiness, verbose: boolean): string {
  if (readiness.ok && !verbose) return 'ok\n';
  const lines = readiness.checks.map((c) => (c.ok ? `[+]${c.name} ok` : `[-]${c.name} ${c.reason ?? 'failed'}`));
  lines.push(readiness.ok ? 'readyz check passed' : 'readyz check failed');
  return lines.join('\n') + '\n';
}
