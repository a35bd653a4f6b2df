/** The least-squares slope of a memory series, in MB per 10 minutes. */
export interface Sample {
  seconds: number;
  rssMB: number;
  heapMB: number;
}

export function slopePerTenMinutes(samples: readonly Sample[], key: 'rssMB' | 'heapMB'): number {
  const n = samples.length;
  if (n < 2) return Number.NaN;
  const mx = samples.reduce((a, s) => a + s.seconds, 0) / n;
  const my = samples.reduce((a, s) => a + s[key], 0) / n;
  let num = 0;
  let den = 0;
  for (const s of samples) {
    num += (s.seconds - mx) * (s[key] - my);
    den += (s.seconds - mx) ** 2;
  }
  return den === 0 ? Number.NaN : (num / den) * 600;
}
