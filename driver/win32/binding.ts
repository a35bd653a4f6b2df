/**
 * The one koffi binding of the Win32 calls kawin makes to its driver. On Windows it loads
 * kernel32.dll and fltlib.dll; on Linux it loads the emulator's shim library, which
 * exports the same names with the same signatures and error behaviour. Each wrapper
 * reads GetLastError right after its call, on the same thread (koffi keeps the thread's
 * last-error value intact between the two calls on Windows).
 */
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';

/** A Win32 HANDLE: an opaque pointer value (koffi 3 pointers are bigints; NULL is null). */
export type Handle = bigint;

/** How to load the binding; a Worker re-creates the same binding from it. */
export interface BindingSpec {
  /** Path of the emulator's shim library; omitted on Windows for the real DLLs. */
  library?: string;
}

export interface IoctlOutcome {
  ok: boolean;
  bytesReturned: number;
  /** GetLastError when !ok, else 0. */
  error: number;
}

export interface Win32Binding {
  readonly spec: BindingSpec;
  /** CreateFileW(name, read|write, share, OPEN_EXISTING); error = GetLastError on failure. */
  openDevice(name: string): { handle: Handle | null; error: number };
  deviceIoControl(handle: Handle, code: number, input: Uint8Array | null, output: Uint8Array | null): IoctlOutcome;
  closeHandle(handle: Handle): boolean;
  /** CancelIoEx(handle, NULL): releases every blocked call on the handle. */
  cancelIo(handle: Handle): { ok: boolean; error: number };
  /** FilterConnectCommunicationPort; returns its HRESULT. */
  connectPort(name: string): { hresult: number; handle: Handle | null };
  /** FilterGetMessage (synchronous, blocks); returns its HRESULT. */
  getMessage(port: Handle, buffer: Uint8Array): number;
  replyMessage(port: Handle, reply: Uint8Array): number;
  /** GetLogicalDrives(): the drive letters present (bit 0 = A:), or 0 and the error. */
  logicalDrives(): { mask: number; error: number };
  /** QueryDosDeviceW(name): the targets (e.g. `\Device\HarddiskVolume3`) or the error. */
  queryDosDevice(name: string): { targets: string[]; error: number };
}

const GENERIC_READ_WRITE = 0xc0000000;
const FILE_SHARE_READ_WRITE = 0x3;
const OPEN_EXISTING = 3;
const FILE_ATTRIBUTE_NORMAL = 0x80;
const INVALID_HANDLE_VALUE = 0xffffffffffffffffn;
const QUERY_DOS_CHARS = 4096;

let handleType: TypeObject | undefined;

function declare(kernel32: LibraryHandle, fltlib: LibraryHandle) {
  handleType ??= koffi.pointer('KAWIN_HANDLE', koffi.opaque('KAWIN_HANDLE_OBJ'));
  const H = 'KAWIN_HANDLE';
  return {
    CreateFileW: kernel32.func(`${H} __stdcall CreateFileW(const char16_t *name, uint32_t access, uint32_t share, void *sa, uint32_t disposition, uint32_t flags, ${H} tmpl)`),
    DeviceIoControl: kernel32.func(`int __stdcall DeviceIoControl(${H} h, uint32_t code, void *in, uint32_t inSize, void *out, uint32_t outSize, _Out_ uint32_t *returned, void *overlapped)`),
    CloseHandle: kernel32.func(`int __stdcall CloseHandle(${H} h)`),
    CancelIoEx: kernel32.func(`int __stdcall CancelIoEx(${H} h, void *overlapped)`),
    GetLastError: kernel32.func('uint32_t __stdcall GetLastError()'),
    GetLogicalDrives: kernel32.func('uint32_t __stdcall GetLogicalDrives()'),
    QueryDosDeviceW: kernel32.func('uint32_t __stdcall QueryDosDeviceW(const char16_t *name, void *target, uint32_t max)'),
    FilterConnectCommunicationPort: fltlib.func(`int32_t __stdcall FilterConnectCommunicationPort(const char16_t *name, uint32_t options, void *ctx, uint16_t ctxSize, void *sa, _Out_ ${H} *port)`),
    FilterGetMessage: fltlib.func(`int32_t __stdcall FilterGetMessage(${H} port, void *buffer, uint32_t size, void *overlapped)`),
    FilterReplyMessage: fltlib.func(`int32_t __stdcall FilterReplyMessage(${H} port, void *reply, uint32_t size)`),
  };
}

function loadLibraries(spec: BindingSpec): [LibraryHandle, LibraryHandle] {
  if (spec.library) {
    const lib = koffi.load(spec.library);
    return [lib, lib];
  }
  if (process.platform !== 'win32') {
    throw new Error('no driver library: on this platform pass the emulator shim (driver/emulator/build/libkawin_emu.so)');
  }
  return [koffi.load('kernel32.dll'), koffi.load('fltlib.dll')];
}

function isValid(h: Handle | null): h is Handle {
  return h !== null && h !== 0n && h !== INVALID_HANDLE_VALUE;
}

function parseMultiSz(units: Uint16Array, count: number): string[] {
  const out: string[] = [];
  let start = 0;
  for (let i = 0; i < count; i++) {
    if (units[i] !== 0) continue;
    if (i > start) out.push(String.fromCharCode(...units.subarray(start, i)));
    start = i + 1;
  }
  return out;
}

/** Loads the binding: the real DLLs on Windows, or the emulator shim at `spec.library`. */
export function loadBinding(spec: BindingSpec = {}): Win32Binding {
  const f = declare(...loadLibraries(spec));
  const lastError = (): number => f.GetLastError() as number;
  return {
    spec: { ...spec },
    openDevice(name) {
      const h = f.CreateFileW(name, GENERIC_READ_WRITE, FILE_SHARE_READ_WRITE, null, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, null) as Handle | null;
      return isValid(h) ? { handle: h, error: 0 } : { handle: null, error: lastError() };
    },
    deviceIoControl(handle, code, input, output) {
      const returned = [0];
      const ok = f.DeviceIoControl(handle, code, input, input?.byteLength ?? 0, output, output?.byteLength ?? 0, returned, null) !== 0;
      return { ok, bytesReturned: returned[0] ?? 0, error: ok ? 0 : lastError() };
    },
    closeHandle: (handle) => f.CloseHandle(handle) !== 0,
    cancelIo(handle) {
      const ok = f.CancelIoEx(handle, null) !== 0;
      return { ok, error: ok ? 0 : lastError() };
    },
    connectPort(name) {
      const out: Array<Handle | null> = [null];
      const hresult = (f.FilterConnectCommunicationPort(name, 0, null, 0, null, out) as number) >>> 0;
      return { hresult, handle: hresult === 0 ? out[0] ?? null : null };
    },
    getMessage: (port, buffer) => (f.FilterGetMessage(port, buffer, buffer.byteLength, null) as number) >>> 0,
    replyMessage: (port, reply) => (f.FilterReplyMessage(port, reply, reply.byteLength) as number) >>> 0,
    logicalDrives() {
      const mask = (f.GetLogicalDrives() as number) >>> 0;
      return { mask, error: mask === 0 ? lastError() : 0 };
    },
    queryDosDevice(name) {
      const buffer = new Uint16Array(QUERY_DOS_CHARS);
      const n = f.QueryDosDeviceW(name, buffer, QUERY_DOS_CHARS) as number;
      return n === 0 ? { targets: [], error: lastError() } : { targets: parseMultiSz(buffer, n), error: 0 };
    },
  };
}
