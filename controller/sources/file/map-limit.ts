/**
 * Run `fn` over `items` with at most `limit` in flight, results in input order. The file
 * source reads and stats a directory's entries this way: a thousand calls at once complete
 * in bursts that the event loop runs as one long turn (a scan of 1000 files: 12–24 ms in
 * bench:reconcile's cold start); `limit` in flight bounds each burst.
 */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
