/**
 * EmulatedMachine: what happens "on the machine" around the emulated driver: file opens
 * and process starts to decide, load to generate, faults to inject, the driver to
 * reload. Wraps the KawinEmu_* exports of the shim library (kawin_emu.h); the agent
 * itself never needs these.
 */
import koffi from 'koffi';
import { EMU_DECISION } from '../abi/layout.js';
import { ACCESS, IOCTL, type Decision, type IoctlName } from '../abi/types.js';
import { errorFromWin32 } from '../client/errors.js';

export interface EmulatedDecision {
  decision: Decision;
  /** NTSTATUS the caller got (STATUS_ACCESS_DENIED when blocked). */
  status: number;
  /** The deciding rule; 0n for none / default posture. */
  ruleId: bigint;
  /** Process create: pid of the new process (0 when blocked). */
  processId: number;
}

export interface FileOpenOptions {
  /** Image path of the opening process (DOS or posix path). */
  process: string;
  pid?: number;
  /** Shorthand for a write open (WRITE_DATA) instead of a read (READ_DATA). */
  write?: boolean;
  /** Exact desired access (KAWIN_ACCESS_*); overrides `write`. */
  access?: number;
}

/** A process of the emulated machine, as the driver tracks it (KawinEmu_DefineProcess). */
export interface EmulatedProcess {
  pid: number;
  /** 0 when unknown. */
  parentPid?: number;
  sessionId?: number;
  /** DOS or posix path of its image. */
  image?: string;
  /** String SID of its user (default: the kernel's --user-sid). */
  userSid?: string;
  /** Its current directory (DOS or posix). */
  currentDirectory?: string;
}

export interface ProcessCreateOptions {
  parent: string;
  parentPid?: number;
  commandLine?: string;
}

/** The JSON of KawinEmu_GetLayout. */
export interface EmulatorLayout {
  abiVersion: number;
  structs: Record<string, { size: number; fields: Record<string, number> }>;
  constants: Record<string, number>;
}

const LAYOUT_BUFFER_BYTES = 256 * 1024;

const EMU_PROCESS = koffi.struct('KAWIN_EMU_PROCESS', {
  ProcessId: 'uint32_t', ParentProcessId: 'uint32_t', SessionId: 'uint32_t', Reserved: 'uint32_t',
  Image: 'const char *', UserSid: 'const char *', CurrentDirectory: 'const char *',
});

function declare(library: string) {
  const lib = koffi.load(library);
  return {
    GetLayout: lib.func('uint32_t KawinEmu_GetLayout(void *buffer, uint32_t size)'),
    SimulateFileOpen: lib.func('uint32_t KawinEmu_SimulateFileOpen(const char *device, const char *path, const char *image, uint32_t pid, uint32_t access, void *out)'),
    SimulateProcessCreate: lib.func('uint32_t KawinEmu_SimulateProcessCreate(const char *device, const char *image, const char *parent, uint32_t parentPid, const char *commandLine, void *out)'),
    GenerateLoad: lib.func('uint32_t KawinEmu_GenerateLoad(const char *device, uint64_t count, uint64_t rate, uint32_t wait)'),
    InjectFault: lib.func('uint32_t KawinEmu_InjectFault(const char *device, uint32_t ioctl, uint32_t count, uint32_t error)'),
    DropPort: lib.func('uint32_t KawinEmu_DropPort(const char *device)'),
    DefineProcess: lib.func('KawinEmu_DefineProcess', 'uint32_t', ['const char *', koffi.pointer(EMU_PROCESS)]),
    MountVolume: lib.func('uint32_t KawinEmu_MountVolume(const char *device, const char *drive, const char *ntDevice)'),
    Reload: lib.func('uint32_t KawinEmu_Reload(const char *device)'),
    Reset: lib.func('uint32_t KawinEmu_Reset(const char *device)'),
    BenchDecide: lib.func('uint32_t KawinEmu_BenchDecide(const char *device, const char *path, const char *image, uint32_t access, uint64_t iterations, void *nsPerDecision)'),
    TableChanged: lib.func('uint32_t KawinEmu_TableChanged(const char *device, _Out_ uint64_t *generation, _Out_ uint64_t *changedAtNs)'),
    Shutdown: lib.func('uint32_t KawinEmu_Shutdown(const char *device)'),
  };
}

type Exports = ReturnType<typeof declare>;
const loaded = new Map<string, Exports>();

function check(operation: string, code: number): void {
  if (code !== 0) throw errorFromWin32(`KawinEmu_${operation}`, code);
}

function decodeDecision(bytes: Uint8Array): EmulatedDecision {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const f = EMU_DECISION.fields;
  return {
    decision: v.getUint32(f.Decision, true),
    status: v.getUint32(f.Status, true),
    ruleId: v.getBigUint64(f.RuleId, true),
    processId: v.getUint32(f.ProcessId, true),
  };
}

/** The emulator's layout table (needs no running kernel). */
export function readEmulatorLayout(library: string): EmulatorLayout {
  const f = exportsOf(library);
  const buffer = new Uint8Array(LAYOUT_BUFFER_BYTES);
  check('GetLayout', f.GetLayout(buffer, buffer.byteLength) as number);
  const end = buffer.indexOf(0);
  return JSON.parse(new TextDecoder().decode(buffer.subarray(0, end < 0 ? buffer.length : end))) as EmulatorLayout;
}

function exportsOf(library: string): Exports {
  let f = loaded.get(library);
  if (!f) {
    f = declare(library);
    loaded.set(library, f);
  }
  return f;
}

export class EmulatedMachine {
  private readonly f: Exports;

  /** `device` is the emulated kernel's device socket path. */
  constructor(readonly library: string, readonly device: string) {
    this.f = exportsOf(library);
  }

  simulateFileOpen(path: string, options: FileOpenOptions): EmulatedDecision {
    const access = options.access ?? (options.write ? ACCESS.writeData : ACCESS.readData);
    const out = new Uint8Array(EMU_DECISION.size);
    check('SimulateFileOpen', this.f.SimulateFileOpen(this.device, path, options.process, options.pid ?? 4242, access, out) as number);
    return decodeDecision(out);
  }

  simulateProcessCreate(image: string, options: ProcessCreateOptions): EmulatedDecision {
    const out = new Uint8Array(EMU_DECISION.size);
    const code = this.f.SimulateProcessCreate(this.device, image, options.parent, options.parentPid ?? 4242, options.commandLine ?? null, out) as number;
    check('SimulateProcessCreate', code);
    return decodeDecision(out);
  }

  /** Emits `count` events naming the table's Audit/Block rules in turn (docs/driver.md) at `ratePerSecond` (0: as fast as possible). */
  async generateLoad(count: number, ratePerSecond = 0, wait = true): Promise<void> {
    // With wait the call blocks until all are emitted: run it off the main thread.
    const code = await new Promise<number>((resolve, reject) => {
      this.f.GenerateLoad.async(this.device, count, ratePerSecond, wait ? 1 : 0, (err: unknown, r: number) => (err ? reject(err) : resolve(r)));
    });
    check('GenerateLoad', code);
  }

  /** The next `count` calls of `ioctl` (undefined: any IOCTL) fail with `win32Error` (0: ERROR_GEN_FAILURE). */
  injectFault(ioctl: IoctlName | undefined, count: number, win32Error = 0): void {
    check('InjectFault', this.f.InjectFault(this.device, ioctl ? IOCTL[ioctl] : 0, count, win32Error) as number);
  }

  /**
   * A running process, as the driver tracks it: later events of `pid` carry its parent,
   * the parent's image (when the parent is tracked too), session, user and directory.
   */
  defineProcess(p: EmulatedProcess): void {
    const process = {
      ProcessId: p.pid, ParentProcessId: p.parentPid ?? 0, SessionId: p.sessionId ?? 0, Reserved: 0,
      Image: p.image ?? null, UserSid: p.userSid ?? null, CurrentDirectory: p.currentDirectory ?? null,
    };
    check('DefineProcess', this.f.DefineProcess(this.device, process) as number);
  }

  /** A volume appears on the machine: `drive` (`Q:`) maps to `ntDevice` from now on. */
  mountVolume(drive: string, ntDevice: string): void {
    check('MountVolume', this.f.MountVolume(this.device, drive, ntDevice) as number);
  }

  dropPort(): void {
    check('DropPort', this.f.DropPort(this.device) as number);
  }

  /** Driver unload + load: table cleared, generation 0, handles invalid, port dropped. */
  reload(): void {
    check('Reload', this.f.Reload(this.device) as number);
  }

  /** Like reload, and clears injected faults. */
  reset(): void {
    check('Reset', this.f.Reset(this.device) as number);
  }

  shutdown(): void {
    check('Shutdown', this.f.Shutdown(this.device) as number);
  }

  /** Nanoseconds per in-kernel decision of a file open (no IPC in the measurement). */
  benchDecide(path: string, processImage: string, iterations: number, access: number = ACCESS.readData): number {
    const ns = new Float64Array(1);
    check('BenchDecide', this.f.BenchDecide(this.device, path, processImage, access, iterations, ns) as number);
    return ns[0]!;
  }

  /**
   * The table's generation and when it last moved, in nanoseconds of CLOCK_MONOTONIC taken
   * by the kernel as it committed the write (process.hrtime.bigint()'s clock on Linux); 0n
   * if it never moved since the driver loaded.
   */
  tableChanged(): { generation: bigint; changedAtNs: bigint } {
    const generation = [0n];
    const changedAtNs = [0n];
    check('TableChanged', this.f.TableChanged(this.device, generation, changedAtNs) as number);
    return { generation: BigInt(generation[0]!), changedAtNs: BigInt(changedAtNs[0]!) };
  }

  layout(): EmulatorLayout {
    return readEmulatorLayout(this.library);
  }
}
