/**
 * The manager owns every long-running part of the agent, in the spirit of
 * controller-runtime's manager: a runnable added before `start` is started by it, one
 * added after `start` is started at once; `stop` stops them in reverse order of start,
 * each within a deadline; readiness is the conjunction of the parts'. Start order is the
 * order of `add`, so a dependency is simply added first.
 */
import { nextTurn, type Clock } from '../clock/index.js';
import type { CheckResult, Logger, Readiness } from '../observability/index.js';
import type { Runnable } from './runnable.js';

export interface ManagerOptions {
  logger: Logger;
  clock: Clock;
  /** How long one runnable may take to stop before the manager moves on (and says so). */
  stopDeadlineMs: number;
}

type Phase = 'new' | 'started' | 'stopped';

export class Manager {
  private readonly added: Runnable[] = [];
  private readonly running: Runnable[] = [];
  private phase: Phase = 'new';
  private starting: Promise<void> = Promise.resolve();

  constructor(private readonly options: ManagerOptions) {}

  /** Add a part; started now if the manager already runs. Names must be unique. */
  async add(runnable: Runnable): Promise<void> {
    if (this.added.some((r) => r.name === runnable.name)) throw new Error(`runnable ${runnable.name} added twice`);
    if (this.phase === 'stopped') throw new Error(`cannot add ${runnable.name}: the manager has stopped`);
    this.added.push(runnable);
    if (this.phase === 'started') await this.enqueueStart(runnable);
  }

  /** Stop one part (within the deadline) and forget it: a source disabled by config. */
  async remove(runnable: Runnable): Promise<void> {
    const i = this.added.indexOf(runnable);
    if (i < 0) return;
    this.added.splice(i, 1);
    await this.starting.catch(() => {});
    const r = this.running.indexOf(runnable);
    if (r >= 0) {
      this.running.splice(r, 1);
      await this.stopOne(runnable);
    }
  }

  /** Start every part added so far, in order. A failed start rejects (naming the part); the caller then stops the manager, which stops what did start. */
  async start(): Promise<void> {
    if (this.phase !== 'new') throw new Error(`manager already ${this.phase}`);
    this.phase = 'started';
    for (const runnable of [...this.added]) await this.enqueueStart(runnable);
  }

  /** Stop every running part, last started first. Never rejects; failures are logged. */
  async stop(): Promise<void> {
    if (this.phase === 'stopped') return;
    this.phase = 'stopped';
    await this.starting.catch(() => {});
    while (this.running.length) await this.stopOne(this.running.pop()!);
  }

  /** The conjunction of every added part's readiness (not started counts as not ready). */
  readiness(): Readiness {
    const checks: CheckResult[] = this.added.map((r) => {
      if (!this.running.includes(r)) return { name: r.name, ok: false, reason: 'not started' };
      try {
        return { name: r.name, ...(r.ready?.() ?? { ok: true }) };
      } catch (error) {
        return { name: r.name, ok: false, reason: `check failed: ${(error as Error).message}` };
      }
    });
    return { ok: checks.every((c) => c.ok), checks };
  }

  private enqueueStart(runnable: Runnable): Promise<void> {
    const next = this.starting.then(() => this.startOne(runnable));
    this.starting = next.catch(() => {});
    return next;
  }

  private async startOne(runnable: Runnable): Promise<void> {
    // Each part starts in an event-loop turn of its own: the parts that start one after
    // another (a listener, a worker thread, the first reconcile) do not add up to one long
    // turn of the main thread.
    await nextTurn();
    if (this.phase !== 'started') return;
    try {
      await runnable.start();
    } catch (error) {
      this.options.logger.error('a part of the agent failed to start', { runnable: runnable.name, error: (error as Error).message });
      throw new Error(`${runnable.name} failed to start: ${(error as Error).message}`, { cause: error });
    }
    this.running.push(runnable);
  }

  private async stopOne(runnable: Runnable): Promise<void> {
    const { clock, stopDeadlineMs, logger } = this.options;
    let timer: ReturnType<Clock['setTimeout']> | undefined;
    const deadline = new Promise<'late'>((resolve) => { timer = clock.setTimeout(() => resolve('late'), stopDeadlineMs); });
    const stopped = runnable.stop().then(() => 'done' as const, (error: Error) => {
      logger.error('a part of the agent failed to stop cleanly', { runnable: runnable.name, error: error.message });
      return 'done' as const;
    });
    const outcome = await Promise.race([stopped, deadline]);
    if (timer) clock.clearTimeout(timer);
    if (outcome === 'late') logger.error('a part of the agent did not stop within the deadline', { runnable: runnable.name, deadlineMs: stopDeadlineMs });
  }
}
