/**
 * Typed driver errors, one per row of driver-abi.md's error table, so callers can tell
 * "retry later" (driver not loaded, port lost) from "fatal" (not elevated, another agent)
 * from "re-read and reconcile" (generation conflict) from "bug" (malformed request).
 */
import { WIN32, hresultFromWin32 } from '../abi/types.js';

export interface DriverErrorDetails {
  /** What the client was doing, e.g. `APPLY`, `CreateFileW`, `FilterGetMessage`. */
  operation: string;
  /** The Win32 error (GetLastError, or the low word of an HRESULT). */
  win32Error?: number;
  /** The HRESULT when the call returned one (filter port calls). */
  hresult?: number;
  cause?: unknown;
}

export class DriverError extends Error {
  override name = 'DriverError';
  readonly operation: string;
  readonly win32Error: number | undefined;
  readonly hresult: number | undefined;

  constructor(message: string, details: DriverErrorDetails) {
    super(`${details.operation}: ${message}${codeSuffix(details)}`, details.cause === undefined ? undefined : { cause: details.cause });
    this.operation = details.operation;
    this.win32Error = details.win32Error;
    this.hresult = details.hresult;
  }
}

function codeSuffix(d: DriverErrorDetails): string {
  if (d.hresult !== undefined) return ` (HRESULT 0x${d.hresult.toString(16).toUpperCase().padStart(8, '0')})`;
  if (d.win32Error !== undefined) return ` (Win32 error ${d.win32Error})`;
  return '';
}

/** Device or port absent (error 2): report the driver down, retry with backoff. */
export class DriverNotLoadedError extends DriverError { override name = 'DriverNotLoadedError'; }
/** Access denied (error 5): fatal, the agent must run as LocalSystem / root. */
export class NotElevatedError extends DriverError { override name = 'NotElevatedError'; }
/** 0x800704D6: another agent holds the one port connection. Fatal. */
export class PortConnectionLimitError extends DriverError { override name = 'PortConnectionLimitError'; }
/** 0x80070006: the port (or a device handle) went away, e.g. driver reload. Reconnect. */
export class PortDisconnectedError extends DriverError { override name = 'PortDisconnectedError'; }
/** 0x800703E3: a blocking call was cancelled (normal at shutdown). */
export class RequestCancelledError extends DriverError { override name = 'RequestCancelledError'; }
/** Error 122 / 234: the output buffer was too small; `requiredSize` when the driver said. */
export class BufferTooSmallError extends DriverError {
  override name = 'BufferTooSmallError';
  requiredSize: number | undefined;
}
/** APPLY's expected generation was stale (ERROR_REVISION_MISMATCH): re-read and reconcile. */
export class GenerationConflictError extends DriverError { override name = 'GenerationConflictError'; }
/** Error 87: the driver rejected the input as malformed. A bug or ABI mismatch. */
export class MalformedRequestError extends DriverError { override name = 'MalformedRequestError'; }
/** Error 1: the driver does not know the IOCTL. An ABI mismatch. */
export class UnknownIoctlError extends DriverError { override name = 'UnknownIoctlError'; }
/** Error 1816: the table would exceed KAWIN_MAX_RULES. */
export class RuleQuotaExceededError extends DriverError { override name = 'RuleQuotaExceededError'; }
/**
 * A device handle went stale (error 6 on an IOCTL): the driver was unloaded and loaded
 * again. The client has reopened the handle; a write is not repeated blindly because the
 * table it was computed against is gone: re-read and reconcile.
 */
export class StaleHandleError extends DriverError { override name = 'StaleHandleError'; }
/** Any other failure, with its Win32 code / HRESULT. */
export class DriverIoError extends DriverError { override name = 'DriverIoError'; }
/** The request exceeds a named limit (LIMITS.maxIoctlInput); nothing was sent. */
export class RequestTooLargeError extends DriverError { override name = 'RequestTooLargeError'; }
/** The driver answered with bytes that do not follow the ABI (cause: AbiDecodeError). */
export class DriverProtocolError extends DriverError { override name = 'DriverProtocolError'; }

type DriverErrorClass = new (message: string, details: DriverErrorDetails) => DriverError;

const BY_WIN32: ReadonlyMap<number, [DriverErrorClass, string]> = new Map([
  [WIN32.fileNotFound, [DriverNotLoadedError, 'the kawin driver is not loaded']],
  [WIN32.accessDenied, [NotElevatedError, 'access denied: run as LocalSystem / root']],
  [WIN32.connectionCountLimit, [PortConnectionLimitError, 'another agent is connected to the event port']],
  [WIN32.invalidHandle, [PortDisconnectedError, 'the handle is no longer valid (driver unloaded or port dropped)']],
  [WIN32.operationAborted, [RequestCancelledError, 'the request was cancelled']],
  [WIN32.insufficientBuffer, [BufferTooSmallError, 'the output buffer is too small']],
  [WIN32.moreData, [BufferTooSmallError, 'more data is available than the buffer holds']],
  [WIN32.revisionMismatch, [GenerationConflictError, 'the rule table changed (generation conflict)']],
  [WIN32.invalidParameter, [MalformedRequestError, 'the driver rejected the request as malformed']],
  [WIN32.invalidFunction, [UnknownIoctlError, 'the driver does not know this IOCTL']],
  [WIN32.notEnoughQuota, [RuleQuotaExceededError, 'the rule table is full']],
] as Array<[number, [DriverErrorClass, string]]>);

/** The typed error for a Win32 error code. */
export function errorFromWin32(operation: string, win32Error: number, cause?: unknown): DriverError {
  const [Class, message] = BY_WIN32.get(win32Error) ?? [DriverIoError, `failed with Win32 error ${win32Error}`];
  return new Class(message, { operation, win32Error, cause });
}

/** The typed error for an HRESULT of a filter port call (FACILITY_WIN32 codes map like Win32 errors). */
export function errorFromHresult(operation: string, hresult: number, cause?: unknown): DriverError {
  const hr = hresult >>> 0;
  const win32 = (hr & 0xffff0000) >>> 0 === 0x80070000 ? hr & 0xffff : undefined;
  const entry = win32 === undefined ? undefined : BY_WIN32.get(win32);
  const [Class, message] = entry ?? [DriverIoError, `failed with HRESULT 0x${hr.toString(16)}`];
  return new Class(message, { operation, win32Error: win32, hresult: hr, cause });
}

export const HRESULT = {
  fileNotFound: hresultFromWin32(WIN32.fileNotFound),
  accessDenied: hresultFromWin32(WIN32.accessDenied),
  invalidHandle: hresultFromWin32(WIN32.invalidHandle),
  operationAborted: hresultFromWin32(WIN32.operationAborted),
  connectionCountLimit: hresultFromWin32(WIN32.connectionCountLimit),
} as const;

/** Errors after which nothing will get better by retrying (the agent should stop). */
export function isFatalDriverError(e: unknown): boolean {
  return e instanceof NotElevatedError || e instanceof PortConnectionLimitError ||
    e instanceof MalformedRequestError || e instanceof UnknownIoctlError;
}
