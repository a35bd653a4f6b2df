/**
 * Long loops on the main thread in slices: a reconcile of 100k rules walks them several
 * times (merge with a read-back, plan, commit, admission), and one synchronous walk would
 * hold the event loop for tens of ms. A Slicer is checked every iteration; every so many
 * it looks at the clock and yields a turn once SLICE_MS have passed.
 */
export const SLICE_MS = 5;
/** Iterations between two looks at the clock (performance.now() is not free). */
const CHECK_EVERY = 256;

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class Slicer {
  private since = performance.now();
  private count = 0;

  /** True when the caller should `await this.yield()` now. */
  due(): boolean {
    if (++this.count < CHECK_EVERY) return false;
    this.count = 0;
    return performance.now() - this.since > SLICE_MS;
  }

  async yield(): Promise<void> {
    await turn();
    this.since = performance.now();
  }
}
