/**
 * The koffi binding of advapi32's service and event-log calls: the Service Control
 * Manager (install, start, stop, query, recovery), the service dispatcher a service
 * process must enter, and the Windows Event Log. Windows only: loading it elsewhere fails.
 * Each wrapper reads GetLastError right after its call on the same thread, as the driver's
 * binding does (driver/win32).
 */
import koffi, { type LibraryHandle } from 'koffi';

/** An SC_HANDLE, SERVICE_STATUS_HANDLE or event source HANDLE (koffi 3 pointers are bigints). */
export type Win32Handle = bigint;

/** SERVICE_STATUS, field for field. */
export interface ServiceStatus {
  dwServiceType: number;
  dwCurrentState: number;
  dwControlsAccepted: number;
  dwWin32ExitCode: number;
  dwServiceSpecificExitCode: number;
  dwCheckPoint: number;
  dwWaitHint: number;
}

/** One SC_ACTION of SERVICE_FAILURE_ACTIONSW: what the SCM does after a failure. */
export interface FailureAction {
  type: number;
  delayMs: number;
}

export interface CreateServiceSpec {
  name: string;
  displayName: string;
  /** The command line: quoted executable path and its arguments. */
  binaryPath: string;
  startType: number;
}

/** Every call returns the Win32 error (GetLastError) next to its result; 0 on success. */
export interface AdvapiBinding {
  openSCManager(access: number): Result<Win32Handle>;
  openService(scm: Win32Handle, name: string, access: number): Result<Win32Handle>;
  createService(scm: Win32Handle, spec: CreateServiceSpec): Result<Win32Handle>;
  deleteService(service: Win32Handle): number;
  startService(service: Win32Handle): number;
  controlService(service: Win32Handle, control: number): Result<ServiceStatus>;
  queryServiceStatus(service: Win32Handle): Result<ServiceStatus>;
  setDescription(service: Win32Handle, description: string): number;
  setFailureActions(service: Win32Handle, resetPeriodSeconds: number, actions: FailureAction[]): number;
  closeServiceHandle(handle: Win32Handle): void;
  /**
   * StartServiceCtrlDispatcherW on a koffi worker thread. Resolves true when the service
   * stopped and the dispatcher returned, false at once when the process was not started
   * by the SCM (ERROR_FAILED_SERVICE_CONTROLLER_CONNECT: the exact code stays on koffi's
   * worker thread, where GetLastError cannot be read).
   */
  runDispatcher(name: string, serviceMain: () => void): Promise<boolean>;
  registerHandler(name: string, handler: (control: number) => number): Result<Win32Handle>;
  setServiceStatus(handle: Win32Handle, status: ServiceStatus): number;
  registerEventSource(source: string): Result<Win32Handle>;
  reportEvent(source: Win32Handle, type: number, eventId: number, message: string): number;
  deregisterEventSource(source: Win32Handle): void;
}

export type Result<T> = { value: T; error: 0 } | { value: null; error: number };

function declare(advapi: LibraryHandle, kernel32: LibraryHandle) {
  const H = koffi.pointer('KAWIN_SC_HANDLE', koffi.opaque('KAWIN_SC_HANDLE_OBJ'));
  koffi.struct('KAWIN_SERVICE_STATUS', {
    dwServiceType: 'uint32_t', dwCurrentState: 'uint32_t', dwControlsAccepted: 'uint32_t', dwWin32ExitCode: 'uint32_t',
    dwServiceSpecificExitCode: 'uint32_t', dwCheckPoint: 'uint32_t', dwWaitHint: 'uint32_t',
  });
  koffi.struct('KAWIN_SC_ACTION', { Type: 'uint32_t', Delay: 'uint32_t' });
  koffi.struct('KAWIN_FAILURE_ACTIONS', {
    dwResetPeriod: 'uint32_t', lpRebootMsg: 'const char16_t *', lpCommand: 'const char16_t *', cActions: 'uint32_t', lpsaActions: 'KAWIN_SC_ACTION *',
  });
  koffi.struct('KAWIN_FAILURE_ACTIONS_FLAG', { fFailureActionsOnNonCrashFailures: 'int' });
  koffi.struct('KAWIN_DESCRIPTION', { lpDescription: 'const char16_t *' });
  const serviceMain = koffi.proto('void __stdcall KAWIN_SERVICE_MAIN(uint32_t argc, void *argv)');
  const handlerEx = koffi.proto('uint32_t __stdcall KAWIN_HANDLER_EX(uint32_t control, uint32_t eventType, void *eventData, void *context)');
  koffi.struct('KAWIN_SERVICE_TABLE_ENTRY', { lpServiceName: 'const char16_t *', lpServiceProc: koffi.pointer(serviceMain) });
  const h = 'KAWIN_SC_HANDLE';
  return {
    serviceMain, handlerEx, handleType: H,
    GetLastError: kernel32.func('uint32_t __stdcall GetLastError()'),
    OpenSCManagerW: advapi.func(`${h} __stdcall OpenSCManagerW(const char16_t *machine, const char16_t *database, uint32_t access)`),
    OpenServiceW: advapi.func(`${h} __stdcall OpenServiceW(${h} scm, const char16_t *name, uint32_t access)`),
    CreateServiceW: advapi.func(`${h} __stdcall CreateServiceW(${h} scm, const char16_t *name, const char16_t *display, uint32_t access, uint32_t type, uint32_t start, uint32_t errorControl, const char16_t *binaryPath, const char16_t *group, void *tagId, const char16_t *dependencies, const char16_t *account, const char16_t *password)`),
    DeleteService: advapi.func(`int __stdcall DeleteService(${h} service)`),
    StartServiceW: advapi.func(`int __stdcall StartServiceW(${h} service, uint32_t argc, void *argv)`),
    ControlService: advapi.func(`int __stdcall ControlService(${h} service, uint32_t control, _Out_ KAWIN_SERVICE_STATUS *status)`),
    QueryServiceStatus: advapi.func(`int __stdcall QueryServiceStatus(${h} service, _Out_ KAWIN_SERVICE_STATUS *status)`),
    ChangeServiceConfig2W_actions: advapi.func(`int __stdcall ChangeServiceConfig2W(${h} service, uint32_t level, KAWIN_FAILURE_ACTIONS *info)`),
    ChangeServiceConfig2W_flag: advapi.func(`int __stdcall ChangeServiceConfig2W(${h} service, uint32_t level, KAWIN_FAILURE_ACTIONS_FLAG *info)`),
    ChangeServiceConfig2W_description: advapi.func(`int __stdcall ChangeServiceConfig2W(${h} service, uint32_t level, KAWIN_DESCRIPTION *info)`),
    CloseServiceHandle: advapi.func(`int __stdcall CloseServiceHandle(${h} handle)`),
    StartServiceCtrlDispatcherW: advapi.func('int __stdcall StartServiceCtrlDispatcherW(KAWIN_SERVICE_TABLE_ENTRY *table)'),
    RegisterServiceCtrlHandlerExW: advapi.func(`${h} __stdcall RegisterServiceCtrlHandlerExW(const char16_t *name, KAWIN_HANDLER_EX *handler, void *context)`),
    SetServiceStatus: advapi.func(`int __stdcall SetServiceStatus(${h} handle, KAWIN_SERVICE_STATUS *status)`),
    RegisterEventSourceW: advapi.func(`${h} __stdcall RegisterEventSourceW(const char16_t *server, const char16_t *source)`),
    ReportEventW: advapi.func(`int __stdcall ReportEventW(${h} source, uint16_t type, uint16_t category, uint32_t eventId, void *sid, uint16_t numStrings, uint32_t dataSize, const char16_t **strings, void *data)`),
    DeregisterEventSource: advapi.func(`int __stdcall DeregisterEventSource(${h} source)`),
  };
}

const SERVICE_CONFIG_DESCRIPTION = 1;
const SERVICE_CONFIG_FAILURE_ACTIONS = 2;
const SERVICE_CONFIG_FAILURE_ACTIONS_FLAG = 4;
const SERVICE_WIN32_OWN_PROCESS = 0x10;
const SERVICE_ERROR_NORMAL = 1;
const SERVICE_ALL_ACCESS = 0xf01ff;

const emptyStatus = (): ServiceStatus => ({
  dwServiceType: 0, dwCurrentState: 0, dwControlsAccepted: 0, dwWin32ExitCode: 0, dwServiceSpecificExitCode: 0, dwCheckPoint: 0, dwWaitHint: 0,
});

let loaded: AdvapiBinding | undefined;

/** Loads advapi32 (once per process); throws off Windows. */
export function loadAdvapi(): AdvapiBinding {
  if (process.platform !== 'win32') throw new Error(`Windows services exist only on Windows (this is ${process.platform})`);
  loaded ??= bind(declare(koffi.load('advapi32.dll'), koffi.load('kernel32.dll')));
  return loaded;
}

type Api = ReturnType<typeof declare>;

function bind(f: Api): AdvapiBinding {
  const lastError = (): number => f.GetLastError() as number;
  const handle = (h: unknown): Result<Win32Handle> => (h ? { value: h as Win32Handle, error: 0 } : { value: null, error: lastError() });
  const ok = (r: unknown): number => (r ? 0 : lastError());
  // Registered callbacks must outlive the calls that keep their pointers (the SCM calls them later).
  const keep: bigint[] = [];
  return {
    openSCManager: (access) => handle(f.OpenSCManagerW(null, null, access)),
    openService: (scm, name, access) => handle(f.OpenServiceW(scm, name, access)),
    createService: (scm, s) => handle(f.CreateServiceW(scm, s.name, s.displayName, SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
      s.startType, SERVICE_ERROR_NORMAL, s.binaryPath, null, null, null, null, null)),
    deleteService: (service) => ok(f.DeleteService(service)),
    startService: (service) => ok(f.StartServiceW(service, 0, null)),
    controlService(service, control) {
      const status = emptyStatus();
      const r = f.ControlService(service, control, status);
      return r ? { value: status, error: 0 } : { value: null, error: lastError() };
    },
    queryServiceStatus(service) {
      const status = emptyStatus();
      const r = f.QueryServiceStatus(service, status);
      return r ? { value: status, error: 0 } : { value: null, error: lastError() };
    },
    setDescription: (service, description) => ok(f.ChangeServiceConfig2W_description(service, SERVICE_CONFIG_DESCRIPTION, { lpDescription: description })),
    setFailureActions(service, resetPeriodSeconds, actions) {
      const info = {
        dwResetPeriod: resetPeriodSeconds, lpRebootMsg: null, lpCommand: null, cActions: actions.length,
        lpsaActions: actions.map((a) => ({ Type: a.type, Delay: a.delayMs })),
      };
      const error = ok(f.ChangeServiceConfig2W_actions(service, SERVICE_CONFIG_FAILURE_ACTIONS, info));
      // Without the flag the SCM acts only on crashes, not on a non-zero exit code.
      return error || ok(f.ChangeServiceConfig2W_flag(service, SERVICE_CONFIG_FAILURE_ACTIONS_FLAG, { fFailureActionsOnNonCrashFailures: 1 }));
    },
    closeServiceHandle: (h) => void f.CloseServiceHandle(h),
    runDispatcher(name, serviceMain) {
      const main = koffi.register(() => serviceMain(), koffi.pointer(f.serviceMain));
      keep.push(main);
      const table = [{ lpServiceName: name, lpServiceProc: main }, { lpServiceName: null, lpServiceProc: null }];
      return new Promise((resolve, reject) => {
        f.StartServiceCtrlDispatcherW.async(table, (error: unknown, r: unknown) => {
          if (error) reject(error as Error);
          else resolve(Boolean(r));
        });
      });
    },
    registerHandler(name, handler) {
      const cb = koffi.register((control: number) => handler(control), koffi.pointer(f.handlerEx));
      keep.push(cb);
      return handle(f.RegisterServiceCtrlHandlerExW(name, cb, null));
    },
    setServiceStatus: (h, status) => ok(f.SetServiceStatus(h, status)),
    registerEventSource: (source) => handle(f.RegisterEventSourceW(null, source)),
    reportEvent: (source, type, eventId, message) => ok(f.ReportEventW(source, type, 0, eventId, null, 1, 0, [message], null)),
    deregisterEventSource: (source) => void f.DeregisterEventSource(source),
  };
}
