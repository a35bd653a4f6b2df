/**
 * The slope of a memory series in MB per 10 minutes, by the Theil–Sen estimator (the
 * median of the slopes between every pair of samples): RSS moves in steps of several MB
 * as the GC and the allocator return or take pages, and a least-squares line through a
 * few such steps reports a trend that is not there. A steady leak moves every pair alike.
 */
export interface Sample {
  seconds: number;
  rssMB: number;
  heapMB: number;
}

export function slopePerTenMinutes(samples: readonly Sample[], key: 'rssMB' | 'heapMB'): number {
  const slopes: number[] = [];
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      const dt = samples[j]!.seconds - samples[i]!.seconds;
      if (dt > 0) slopes.push((samples[j]![key] - samples[i]![key]) / dt);
    }
  }
  if (slopes.length === 0) return Number.NaN;
  slopes.sort((a, b) => a - b);
  const mid = slopes.length >> 1;
  const median = slopes.length % 2 ? slopes[mid]! : (slopes[mid - 1]! + slopes[mid]!) / 2;
  return median * 600;
}
