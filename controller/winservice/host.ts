/**
 * Running `kawin agent` as a Windows service. The process enters the service dispatcher
 * (StartServiceCtrlDispatcherW, on a koffi worker thread since it blocks); in a console it
 * fails at once and the agent runs as a console program. Started by the SCM, the dispatcher
 * calls ServiceMain, which registers the control handler and reports START_PENDING; the
 * agent reports RUNNING once started, STOP_PENDING when asked to stop, and STOPPED with its
 * exit code once it has stopped. The handler only records the request and returns: a
 * handler that waited for the stop, or reported STOPPED itself, would deadlock the
 * dispatcher, which waits for the handler to return.
 */
import { realClock, type Clock, type TimerHandle } from '../clock/index.js';
import type { AdvapiBinding, ServiceStatus, Win32Handle } from './binding.js';
import { ACCEPT_STOP_AND_SHUTDOWN, CONTROL, ERROR, SERVICE_NAME, SERVICE_WIN32_OWN_PROCESS, STATE } from './constants.js';

/** How long the SCM should wait between checkpoints while starting or stopping. */
export const START_WAIT_HINT_MS = 30_000;
export const STOP_WAIT_HINT_MS = 30_000;
/** Pending states report a new checkpoint this often, so the SCM sees progress. */
const CHECKPOINT_EVERY_MS = 2_000;
/** After STOPPED, how long the dispatcher gets to return before the process exits anyway. */
const DISPATCHER_EXIT_MS = 5_000;

export type StopReason = 'stop' | 'shutdown';

export interface ServiceSession {
  /** Resolves when the SCM asks the service to stop (stop, or system shutdown). */
  readonly stopRequested: Promise<StopReason>;
  /** START_PENDING → RUNNING. */
  running(): void;
  /** STOP_PENDING: the agent is stopping (asked to, or after a fatal error). */
  stopping(): void;
  /** STOPPED with the exit code (0, or a service-specific code), then the dispatcher returns. */
  stopped(exitCode: number): Promise<void>;
}

export class ServiceStatusError extends Error {
  override readonly name = 'ServiceStatusError';
}

/**
 * Enters the dispatcher; resolves with the session when the SCM started this process,
 * null when it did not (a console, a scheduled task, a test).
 */
export async function enterServiceDispatcher(advapi: AdvapiBinding, clock: Clock = realClock): Promise<ServiceSession | null> {
  let session: Session | undefined;
  let failure: unknown;
  let started!: () => void;
  const mainCalled = new Promise<'service'>((resolve) => { started = () => resolve('service'); });
  const dispatcher = advapi.runDispatcher(SERVICE_NAME, () => {
    // An exception must not escape into koffi's callback: it would be lost, and the SCM left waiting.
    try {
      session = new Session(advapi, clock, dispatcher);
    } catch (error) {
      failure = error;
    }
    started();
  });
  const outcome = dispatcher.then((ended): 'ended' | 'console' => (ended ? 'ended' : 'console'));
  const first = await Promise.race([mainCalled, outcome]);
  if (first === 'console') return null;
  if (failure) throw new ServiceStatusError('the service could not register with the SCM', { cause: failure });
  if (!session) throw new ServiceStatusError('the service dispatcher returned before calling ServiceMain');
  return session;
}

class Session implements ServiceSession {
  readonly stopRequested: Promise<StopReason>;
  private requestStop!: (reason: StopReason) => void;
  private readonly handle: Win32Handle;
  private status: ServiceStatus;
  private checkpointTimer: TimerHandle | undefined;

  constructor(
    private readonly advapi: AdvapiBinding,
    private readonly clock: Clock,
    private readonly dispatcher: Promise<boolean>,
  ) {
    this.stopRequested = new Promise((resolve) => { this.requestStop = resolve; });
    const registered = advapi.registerHandler(SERVICE_NAME, (control) => this.onControl(control));
    if (registered.value === null) throw new ServiceStatusError(`RegisterServiceCtrlHandlerExW failed (Win32 error ${registered.error})`);
    this.handle = registered.value;
    this.status = {
      dwServiceType: SERVICE_WIN32_OWN_PROCESS, dwCurrentState: STATE.startPending, dwControlsAccepted: 0,
      dwWin32ExitCode: 0, dwServiceSpecificExitCode: 0, dwCheckPoint: 1, dwWaitHint: START_WAIT_HINT_MS,
    };
    this.report();
    this.tickWhilePending();
  }

  running(): void {
    this.set(STATE.running, { dwControlsAccepted: ACCEPT_STOP_AND_SHUTDOWN, dwCheckPoint: 0, dwWaitHint: 0 });
  }

  stopping(): void {
    if (this.status.dwCurrentState === STATE.stopPending) return;
    this.set(STATE.stopPending, { dwControlsAccepted: 0, dwCheckPoint: 1, dwWaitHint: STOP_WAIT_HINT_MS });
    this.tickWhilePending();
  }

  async stopped(exitCode: number): Promise<void> {
    const failed = exitCode !== 0;
    this.set(STATE.stopped, {
      dwControlsAccepted: 0, dwCheckPoint: 0, dwWaitHint: 0,
      dwWin32ExitCode: failed ? ERROR.serviceSpecific : ERROR.success, dwServiceSpecificExitCode: failed ? exitCode : 0,
    });
    let timer: TimerHandle | undefined;
    const late = new Promise<void>((resolve) => { timer = this.clock.setTimeout(resolve, DISPATCHER_EXIT_MS); });
    await Promise.race([this.dispatcher.then(() => undefined), late]);
    if (timer) this.clock.clearTimeout(timer);
  }

  /** Runs on the main thread (koffi queues the SCM's call): record, report, return. */
  private onControl(control: number): number {
    if (control === CONTROL.interrogate) return ERROR.success;
    if (control !== CONTROL.stop && control !== CONTROL.shutdown) return ERROR.callNotImplemented;
    this.stopping();
    this.requestStop(control === CONTROL.shutdown ? 'shutdown' : 'stop');
    return ERROR.success;
  }

  private set(state: number, fields: Partial<ServiceStatus>): void {
    if (this.checkpointTimer) this.clock.clearTimeout(this.checkpointTimer);
    this.checkpointTimer = undefined;
    this.status = { ...this.status, ...fields, dwCurrentState: state };
    this.report();
  }

  private tickWhilePending(): void {
    this.checkpointTimer = this.clock.setTimeout(() => {
      const state = this.status.dwCurrentState;
      if (state !== STATE.startPending && state !== STATE.stopPending) return;
      this.status = { ...this.status, dwCheckPoint: this.status.dwCheckPoint + 1 };
      this.report();
      this.tickWhilePending();
    }, CHECKPOINT_EVERY_MS);
  }

  private report(): void {
    const error = this.advapi.setServiceStatus(this.handle, this.status);
    if (error !== 0) throw new ServiceStatusError(`SetServiceStatus failed (Win32 error ${error})`);
  }
}
