/** The n-th retry's delay (n = 0, 1, …): `initialMs` doubling up to `maxMs`. */
export function backoffDelay(attempt: number, initialMs: number, maxMs: number): number {
  return Math.min(initialMs * 2 ** attempt, maxMs);
}
