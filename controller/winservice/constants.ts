/** Win32 service constants kawin uses (winsvc.h, winnt.h, winerror.h). */
export const SERVICE_NAME = 'kawin';
export const SERVICE_DISPLAY_NAME = 'kawin policy enforcement agent';
export const SERVICE_DESCRIPTION = 'Enforces KubeArmor host policies through the kawin driver and reports alerts.';
/** The Event Log source (Application log) of the service. */
export const EVENT_SOURCE = 'kawin';

export const STATE = { stopped: 1, startPending: 2, stopPending: 3, running: 4 } as const;
export const STATE_NAMES: Record<number, string> = {
  1: 'STOPPED', 2: 'START_PENDING', 3: 'STOP_PENDING', 4: 'RUNNING', 5: 'CONTINUE_PENDING', 6: 'PAUSE_PENDING', 7: 'PAUSED',
};
export const CONTROL = { stop: 1, interrogate: 4, shutdown: 5 } as const;
export const ACCEPT_STOP_AND_SHUTDOWN = 0x1 | 0x4;
export const SERVICE_WIN32_OWN_PROCESS = 0x10;
export const SERVICE_AUTO_START = 2;
export const SC_MANAGER_ALL_ACCESS = 0xf003f;
export const SERVICE_ALL_ACCESS = 0xf01ff;
export const SC_ACTION_RESTART = 1;

export const ERROR = {
  success: 0,
  callNotImplemented: 120,
  serviceSpecific: 1066,
  serviceDoesNotExist: 1060,
  serviceNotActive: 1062,
  serviceCannotAcceptControl: 1061,
  serviceExists: 1073,
  serviceMarkedForDelete: 1072,
  serviceAlreadyRunning: 1056,
  accessDenied: 5,
  invalidLevel: 124,
} as const;

export const EVENT_TYPE = { error: 1, warning: 2, information: 4 } as const;
/** kawin's event ids in the Application log. */
export const EVENT_ID = { started: 1, stopped: 2, fatal: 3 } as const;
