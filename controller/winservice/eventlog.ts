/**
 * The service's entries in the Windows Event Log (Application log, source `kawin`): start,
 * stop and fatal errors only — everything else goes to the log file. The MSI registers
 * the source with a message file whose messages are `%1`, so the text shows as written.
 */
import type { AdvapiBinding, Win32Handle } from './binding.js';
import { EVENT_ID, EVENT_SOURCE, EVENT_TYPE } from './constants.js';

export interface ServiceEventLog {
  started(message: string): void;
  stopped(message: string): void;
  fatal(message: string): void;
  close(): void;
}

/** Opens the event source; if that fails, returns a log that writes nowhere and the error. */
export function openEventLog(advapi: AdvapiBinding, onError: (what: string, error: number) => void): ServiceEventLog {
  const source = advapi.registerEventSource(EVENT_SOURCE);
  if (source.value === null) onError('RegisterEventSourceW', source.error);
  const handle: Win32Handle | null = source.value;
  const report = (type: number, id: number, message: string): void => {
    if (handle === null) return;
    const error = advapi.reportEvent(handle, type, id, message);
    if (error !== 0) onError('ReportEventW', error);
  };
  return {
    started: (m) => report(EVENT_TYPE.information, EVENT_ID.started, m),
    stopped: (m) => report(EVENT_TYPE.information, EVENT_ID.stopped, m),
    fatal: (m) => report(EVENT_TYPE.error, EVENT_ID.fatal, m),
    close: () => { if (handle !== null) advapi.deregisterEventSource(handle); },
  };
}
