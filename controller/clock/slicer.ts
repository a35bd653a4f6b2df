/**
 * Long loops on the main thread in slices. A reconcile of 100k rules walks them several
 * times, the file source merges a thousand files, the compile cache and the last-applied
 * record hash and decode megabytes: one synchronous walk would hold the event loop for
 * tens of ms. A Slicer is checked every iteration; every `checkEvery` iterations it looks
 * at the clock and, once SLICE_MS have passed, the caller yields a turn.
 *
 * SLICE_MS is wall time on a thread that may share its core with the prepare workers, so a
 * slice can last longer than that between two turns; 5 ms leaves room under the 20 ms a
 * stall may last (bench:reconcile).
 */
export const SLICE_MS = 5;

/** One turn of the event loop (setImmediate) before the caller goes on. */
export const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Slicers waiting to go on, resumed one per turn of the event loop. Every immediate queued
 * before a turn's check phase runs in it, so slicers that all yielded in one turn (the
 * compile cache and the last-applied snapshot written after the first apply, a reconcile
 * walk) would each run a slice there, back to back: a 15-20 ms turn made of 5 ms slices.
 */
const waiting: (() => void)[] = [];
let resuming = false;

function resumeOne(): void {
  const next = waiting.shift()!;
  // Queued from the check phase: the next one runs in the next turn.
  if (waiting.length > 0) setImmediate(resumeOne);
  else resuming = false;
  next();
}

/** A turn of the event loop of the caller's own: no other slicer resumes in it. */
export function sliceTurn(): Promise<void> {
  return new Promise((resolve) => {
    waiting.push(resolve);
    if (resuming) return;
    resuming = true;
    setImmediate(resumeOne);
  });
}

export class Slicer {
  private since = performance.now();
  private count = 0;

  /** `checkEvery`: iterations between two looks at the clock (1 for steps of ~0.1 ms or more; performance.now() is not free). */
  constructor(private readonly checkEvery = 256) {}

  /** True when the caller should `await this.yield()` now. */
  due(): boolean {
    if (++this.count < this.checkEvery) return false;
    this.count = 0;
    return performance.now() - this.since > SLICE_MS;
  }

  async yield(): Promise<void> {
    await sliceTurn();
    this.since = performance.now();
  }
}
