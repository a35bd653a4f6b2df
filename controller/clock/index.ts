/**
 * Time as a collaborator. Everything that waits (debounce, backoff, resync) asks a
 * `Clock` instead of the global timers, so tests drive time with `FakeClock.advance()`
 * and never sleep.
 */
export type { Clock, TimerHandle } from './clock.js';
export { realClock, sleep } from './clock.js';
export { FakeClock } from './fake.js';
export { backoffDelay } from './backoff.js';
export { Slicer, SLICE_MS, nextTurn, sliceTurn } from './slicer.js';
