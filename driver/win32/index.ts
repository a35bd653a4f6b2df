/**
 * The Win32 boundary: one koffi binding of CreateFileW, DeviceIoControl, CloseHandle,
 * CancelIoEx, GetLogicalDrives, QueryDosDeviceW and the Filter Manager port calls, loaded from the real
 * DLLs on Windows or from the emulator's shim library elsewhere.
 */
export { loadBinding, type BindingSpec, type Handle, type IoctlOutcome, type Win32Binding } from './binding.js';
