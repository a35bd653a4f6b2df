/**
 * kawin as a Windows service: the advapi32 binding (koffi), the service host that
 * `kawin agent` enters when the SCM started it, the SCM operations behind `kawin service`,
 * and the Event Log entries for start, stop and fatal errors.
 */
export { loadAdvapi, type AdvapiBinding } from './binding.js';
export { EVENT_SOURCE, SERVICE_NAME } from './constants.js';
export { openEventLog, type ServiceEventLog } from './eventlog.js';
export { enterServiceDispatcher, START_WAIT_HINT_MS, STOP_WAIT_HINT_MS, type ServiceSession, type StopReason } from './host.js';
export { RECOVERY, ServiceControlError, ServiceManager, type ServiceState } from './manage.js';
export { dataDir, DataDirError, initDataDir, removeDataDir } from './data-dir.js';
