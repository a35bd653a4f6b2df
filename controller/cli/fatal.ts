/**
 * What ends the process when something fails that nothing handled: an uncaught exception
 * or an unhandled rejection anywhere. The error is reported, the registered shutdown hooks
 * run within a bound (a hook that hangs must not leave a half-alive agent holding the
 * driver's event port), and the process exits non-zero. A second fatal error during that
 * shutdown exits at once.
 */
import { realClock, type Clock } from '../clock/index.js';

export const FATAL_EXIT_CODE = 1;
/** The bound before the config is read (the config's `shutdownTimeoutSeconds` replaces it). */
export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

export type ShutdownHook = (error: Error) => Promise<void>;

export interface FatalHandlerOptions {
  /** Where the error goes when no hook logs it (stderr). */
  report(text: string): void;
  exit(code: number): void;
  /** Times the shutdown bound (default: the process's clock). */
  clock?: Clock;
}

export class FatalHandler {
  private readonly hooks = new Set<ShutdownHook>();
  private timeoutMs = DEFAULT_SHUTDOWN_TIMEOUT_MS;
  private handling = false;

  constructor(private readonly options: FatalHandlerOptions) {}

  /** Run `hook` (e.g. stop the agent) before exiting on a fatal error. Returns its removal. */
  onFatal(hook: ShutdownHook): () => void {
    this.hooks.add(hook);
    return () => this.hooks.delete(hook);
  }

  setShutdownTimeout(ms: number): void { this.timeoutMs = ms; }

  get shutdownTimeoutMs(): number { return this.timeoutMs; }

  /** Listen for uncaught exceptions and unhandled rejections of `proc`. */
  install(proc: NodeJS.Process = process): void {
    proc.on('uncaughtException', (error, origin) => this.handle(error, origin));
  }

  handle(reason: unknown, origin: string): void {
    const error = reason instanceof Error ? reason : new Error(`non-error thrown: ${String(reason)}`);
    this.options.report(`kawin: fatal ${origin === 'unhandledRejection' ? 'unhandled rejection' : 'uncaught exception'}: ${error.stack ?? error.message}`);
    if (this.handling) return this.options.exit(FATAL_EXIT_CODE);
    this.handling = true;
    void this.shutDown(error).finally(() => this.options.exit(FATAL_EXIT_CODE));
  }

  private async shutDown(error: Error): Promise<void> {
    const hooks = [...this.hooks].map((hook) => hook(error).catch((e: unknown) => this.options.report(`kawin: shutdown step failed: ${String(e)}`)));
    if (!(await within(Promise.all(hooks), this.timeoutMs, this.options.clock))) {
      this.options.report(`kawin: shutdown did not finish within ${this.timeoutMs} ms: exiting anyway`);
    }
  }
}

/** The process's one handler (bin/kawin.js installs it; commands add their shutdown). */
export const processFatal = new FatalHandler({
  report: (text) => process.stderr.write(`${text}\n`),
  exit: (code) => process.exit(code),
});

/**
 * After a command returned, how long the process may still take to end by itself: a
 * command that left a socket or timer open must not linger (it exits with its own code).
 */
export const EXIT_GRACE_MS = 2000;

/** Runs `work`, but gives up after `ms`: false when it did not finish in time. */
export async function within(work: Promise<unknown>, ms: number, clock: Clock = realClock): Promise<boolean> {
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  const late = new Promise<false>((resolve) => { timer = clock.setTimeout(() => resolve(false), ms); });
  try {
    return await Promise.race([work.then(() => true as const), late]);
  } finally {
    if (timer) clock.clearTimeout(timer);
  }
}
