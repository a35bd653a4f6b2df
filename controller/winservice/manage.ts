/**
 * Installing and operating the kawin service through the Service Control Manager, for
 * `kawin service …` (the MSI installs the service itself, then runs `kawin service
 * configure` for what wixl cannot express: the recovery actions).
 */
import { realClock, sleep, type Clock } from '../clock/index.js';
import type { AdvapiBinding, FailureAction, ServiceStatus, Win32Handle } from './binding.js';
import {
  CONTROL, ERROR, SC_ACTION_RESTART, SC_MANAGER_ALL_ACCESS, SERVICE_ALL_ACCESS, SERVICE_AUTO_START, SERVICE_DESCRIPTION,
  SERVICE_DISPLAY_NAME, SERVICE_NAME, STATE_NAMES,
} from './constants.js';

/** Restart after 5 s, 30 s, then every 60 s; the failure count resets after a day. */
export const RECOVERY: { resetPeriodSeconds: number; actions: FailureAction[] } = {
  resetPeriodSeconds: 86_400,
  actions: [
    { type: SC_ACTION_RESTART, delayMs: 5_000 },
    { type: SC_ACTION_RESTART, delayMs: 30_000 },
    { type: SC_ACTION_RESTART, delayMs: 60_000 },
  ],
};
const POLL_MS = 250;

export class ServiceControlError extends Error {
  override readonly name = 'ServiceControlError';
  constructor(readonly operation: string, readonly win32Error: number, detail = '') {
    super(`${operation} failed (Win32 error ${win32Error}${describe(win32Error)})${detail}`);
  }
}

function describe(error: number): string {
  const names: Record<number, string> = {
    [ERROR.accessDenied]: ': access denied — run as Administrator',
    [ERROR.serviceDoesNotExist]: ': the kawin service is not installed',
    [ERROR.serviceExists]: ': the kawin service is already installed',
    [ERROR.serviceMarkedForDelete]: ': the service is marked for deletion; close services.msc or reboot',
    [ERROR.serviceNotActive]: ': the service is not running',
    [ERROR.serviceAlreadyRunning]: ': the service is already running',
  };
  return names[error] ?? '';
}

export interface ServiceState {
  state: string;
  /** Win32 exit code; with 1066 the service-specific code is kawin's exit code. */
  win32ExitCode: number;
  serviceExitCode: number;
}

export class ServiceManager {
  constructor(private readonly advapi: AdvapiBinding, private readonly clock: Clock = realClock) {}

  /** Creates the service (LocalSystem, automatic start) running `commandLine`, then configures it; returns configure's notes. */
  install(commandLine: string): string[] {
    return this.withScm((scm) => {
      const created = this.advapi.createService(scm, { name: SERVICE_NAME, displayName: SERVICE_DISPLAY_NAME, binaryPath: commandLine, startType: SERVICE_AUTO_START });
      if (created.value === null) throw new ServiceControlError('CreateServiceW', created.error);
      try {
        return this.configureHandle(created.value);
      } finally {
        this.advapi.closeServiceHandle(created.value);
      }
    });
  }

  /** Description and recovery (restart on failure): what the MSI cannot set. Returns what could not be set, and why. */
  configure(): string[] {
    return this.withService((service) => this.configureHandle(service));
  }

  uninstall(): void {
    this.withService((service) => {
      this.advapi.controlService(service, CONTROL.stop); // stop if running; "not active" is fine
      const error = this.advapi.deleteService(service);
      if (error !== 0) throw new ServiceControlError('DeleteService', error);
    });
  }

  start(): void {
    this.withService((service) => {
      const error = this.advapi.startService(service);
      if (error !== 0) throw new ServiceControlError('StartServiceW', error);
    });
  }

  /** Asks the service to stop; one already stopping or stopped is fine (then wait with waitFor). */
  stop(): void {
    this.withService((service) => {
      const r = this.advapi.controlService(service, CONTROL.stop);
      const settled = r.error === ERROR.serviceNotActive || r.error === ERROR.serviceCannotAcceptControl;
      if (r.value === null && !settled) throw new ServiceControlError('ControlService(STOP)', r.error);
    });
  }

  status(): ServiceState {
    return this.withService((service) => {
      const r = this.advapi.queryServiceStatus(service);
      if (r.value === null) throw new ServiceControlError('QueryServiceStatus', r.error);
      return stateOf(r.value);
    });
  }

  /** The state, or null when the service is not installed. */
  statusIfInstalled(): ServiceState | null {
    try {
      return this.status();
    } catch (error) {
      if (error instanceof ServiceControlError && error.win32Error === ERROR.serviceDoesNotExist) return null;
      throw error;
    }
  }

  /** Polls until the service is in `state` or `timeoutMs` passed; returns the last state. */
  async waitFor(state: 'RUNNING' | 'STOPPED', timeoutMs: number): Promise<ServiceState> {
    const deadline = this.clock.now() + timeoutMs;
    for (;;) {
      const now = this.status();
      if (now.state === state || this.clock.now() >= deadline) return now;
      await sleep(this.clock, POLL_MS);
    }
  }

  private configureHandle(service: Win32Handle): string[] {
    const description = this.advapi.setDescription(service, SERVICE_DESCRIPTION);
    if (description !== 0) throw new ServiceControlError('ChangeServiceConfig2W(DESCRIPTION)', description);
    const recovery = this.advapi.setFailureActions(service, RECOVERY.resetPeriodSeconds, RECOVERY.actions);
    // Windows supports failure actions since XP; wine's SCM answers ERROR_INVALID_LEVEL.
    // The install goes on there, and says so, rather than fail for want of a restart policy.
    if (recovery === ERROR.invalidLevel) {
      return ['this Service Control Manager does not support recovery actions (ChangeServiceConfig2W SERVICE_CONFIG_FAILURE_ACTIONS: Win32 error 124, as under wine): restart on failure is NOT set'];
    }
    if (recovery !== 0) throw new ServiceControlError('ChangeServiceConfig2W(FAILURE_ACTIONS)', recovery);
    return [];
  }

  private withScm<T>(use: (scm: Win32Handle) => T): T {
    const scm = this.advapi.openSCManager(SC_MANAGER_ALL_ACCESS);
    if (scm.value === null) throw new ServiceControlError('OpenSCManagerW', scm.error);
    try {
      return use(scm.value);
    } finally {
      this.advapi.closeServiceHandle(scm.value);
    }
  }

  private withService<T>(use: (service: Win32Handle) => T): T {
    return this.withScm((scm) => {
      const service = this.advapi.openService(scm, SERVICE_NAME, SERVICE_ALL_ACCESS);
      if (service.value === null) throw new ServiceControlError('OpenServiceW', service.error);
      try {
        return use(service.value);
      } finally {
        this.advapi.closeServiceHandle(service.value);
      }
    });
  }
}

function stateOf(s: ServiceStatus): ServiceState {
  return { state: STATE_NAMES[s.dwCurrentState] ?? `state ${s.dwCurrentState}`, win32ExitCode: s.dwWin32ExitCode, serviceExitCode: s.dwServiceSpecificExitCode };
}


