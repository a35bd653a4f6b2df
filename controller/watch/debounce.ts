import type { Clock, TimerHandle } from '../clock/index.js';

/** When a burst of events is handled. */
export interface DebounceTiming {
  /** Fire once this long has passed without an event. */
  quietMs: number;
  /**
   * …but no later than this long after the burst's first event, however busy the writer.
   * Not above `quietMs` makes it a fixed window from the first event.
   */
  maxWaitMs: number;
}

/**
 * Coalesces events into one call of `fire`: `touch()` for each event; `fire` runs at the
 * earlier of "quietMs after the last touch" and "maxWaitMs after the first touch since
 * the last fire". Touches during `fire` start the next burst.
 */
export class Debouncer {
  private timer: TimerHandle | undefined;
  private burstStart: number | undefined;

  constructor(
    private readonly clock: Clock,
    private timing: DebounceTiming,
    private readonly fire: () => void,
  ) {}

  /** An event happened: (re)arm the timer. */
  touch(): void {
    const now = this.clock.now();
    this.burstStart ??= now;
    const due = Math.min(now + this.timing.quietMs, this.burstStart + this.timing.maxWaitMs);
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = this.clock.setTimeout(() => this.flush(), due - now);
  }

  /** New timing, from the next touch on (a pending burst keeps its due time). */
  retime(timing: DebounceTiming): void {
    this.timing = timing;
  }

  /** Drop a pending burst without firing. */
  cancel(): void {
    if (this.timer) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.burstStart = undefined;
  }

  get pending(): boolean {
    return this.timer !== undefined;
  }

  private flush(): void {
    this.timer = undefined;
    this.burstStart = undefined;
    this.fire();
  }
}
