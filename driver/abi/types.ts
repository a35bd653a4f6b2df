/**
 * The driver ABI as TypeScript values and types. Numbers mirror driver/abi/kawin_abi.h;
 * the layout test proves codec and header agree. Everything above the driver (policy
 * compiler, reconciler, event pipeline) speaks these types, never raw bytes.
 */

export const ABI_VERSION = 2;
export const DEVICE_TYPE = 0x8022;
export const WINDOWS_DEVICE_NAME = '\\\\.\\Karmor';
export const WINDOWS_PORT_NAME = '\\KarmorPort';

const ctlCode = (func: number, access: number): number =>
  ((DEVICE_TYPE << 16) | (access << 14) | (func << 2) | 0) >>> 0;
const FILE_READ_DATA = 1;
const FILE_WRITE_DATA = 2;

export const IOCTL = {
  ADD_RULES: ctlCode(0x800, FILE_WRITE_DATA),
  REMOVE_RULES: ctlCode(0x801, FILE_WRITE_DATA),
  LIST_RULES: ctlCode(0x802, FILE_READ_DATA),
  GET_STATE: ctlCode(0x803, FILE_READ_DATA),
  SET_CONFIG: ctlCode(0x804, FILE_WRITE_DATA),
  APPLY: ctlCode(0x805, FILE_WRITE_DATA),
} as const;
export type IoctlName = keyof typeof IOCTL;

/** Named limits of the driver (documented in docs/driver.md). */
export const LIMITS = {
  maxRules: 1_048_576,
  maxIoctlInput: 64 * 1024 * 1024,
  maxPathBytes: 65_534,
  maxMessageBytes: 65_536,
  defaultRingCapacity: 8192,
} as const;

export enum Flavor { Windows = 1, Posix = 2 }
export enum RuleKind { Process = 1, File = 2, Registry = 3, Network = 4 }
export enum MatchType { None = 0, Exact = 1, Directory = 2, Recursive = 3, Glob = 4 }
export enum RuleAction { Allow = 1, Audit = 2, Block = 3 }
export enum Posture { Audit = 1, Block = 2 }
export enum Decision { Allow = 1, Audit = 2, Block = 3, PostureAudit = 4, PostureBlock = 5 }
export enum EventType { ProcessCreate = 1, ProcessExit = 2, FileOpen = 3, ImageLoad = 4, Registry = 5 }

export const RULE_FLAG_READ_ONLY = 0x1;
export const LIST_FLAG_MORE = 0x1;
export const CONFIG_FLAG_CASE_FOLD = 0x1;
export const REPORT = {
  allowMatches: 0x1,
  unmatchedProcess: 0x2,
  unmatchedFile: 0x4,
  processExit: 0x8,
} as const;

export const ACCESS = {
  readData: 0x1,
  writeData: 0x2,
  appendData: 0x4,
  writeEa: 0x10,
  execute: 0x20,
  writeAttributes: 0x100,
  delete: 0x10000,
  writeDac: 0x40000,
  writeOwner: 0x80000,
  genericAll: 0x10000000,
  genericWrite: 0x40000000,
} as const;
export const WRITE_ACCESS =
  ACCESS.writeData | ACCESS.appendData | ACCESS.writeEa | ACCESS.writeAttributes |
  ACCESS.delete | ACCESS.writeDac | ACCESS.writeOwner | ACCESS.genericAll | ACCESS.genericWrite;

export const NTSTATUS = {
  success: 0,
  accessDenied: 0xc0000022,
  revisionMismatch: 0xc0000059,
} as const;

export const WIN32 = {
  invalidFunction: 1,
  fileNotFound: 2,
  accessDenied: 5,
  invalidHandle: 6,
  genFailure: 31,
  invalidParameter: 87,
  insufficientBuffer: 122,
  moreData: 234,
  operationAborted: 995,
  connectionCountLimit: 1238,
  revisionMismatch: 1306,
  notEnoughQuota: 1816,
} as const;
export const hresultFromWin32 = (e: number): number => ((e & 0xffff) | 0x80070000) >>> 0;

/** A path-matching clause: a path and how it matches. */
export interface PathMatch {
  path: string;
  match: MatchType;
}

/**
 * One driver rule. `id` is nonzero and derived by user mode from the rule's canonical
 * content. Paths are what the driver matches: NT device paths on Windows
 * (`\Device\HarddiskVolume3\Windows\...`), posix paths on a posix-flavour driver.
 */
export interface DriverRule {
  id: bigint;
  kind: RuleKind;
  action: RuleAction;
  flags: number;
  target: PathMatch;
  /** KubeArmor `fromSource`: the rule applies only to operations by this process. */
  source?: PathMatch;
}

export interface DriverConfig {
  caseFold: boolean;
  eventMask: number;
  processPosture: Posture;
  filePosture: Posture;
  networkPosture: Posture;
  registryPosture: Posture;
}

export interface DriverState {
  abiVersion: number;
  flavor: Flavor;
  generation: bigint;
  ruleCount: number;
  portConnected: boolean;
  eventsEmitted: bigint;
  eventsDropped: bigint;
  ringCapacity: number;
  ringUsed: number;
  config: DriverConfig;
}

export interface ApplyResult {
  generation: bigint;
  added: number;
  replaced: number;
  removed: number;
  missing: number;
}

/**
 * One event as the driver reports it. The acting process is the one that did the
 * operation: the opener of a file, the creator of a process, the process that exits.
 */
export interface DriverEvent {
  type: EventType;
  decision: Decision;
  /** FILETIME, 100 ns ticks since 1601-01-01 UTC. */
  time: bigint;
  ruleId: bigint;
  /** The acting process. */
  processId: number;
  /** The acting process's parent (0 when unknown). */
  parentProcessId: number;
  threadId: number;
  status: number;
  desiredAccess: number;
  /** The acting process's session. */
  sessionId: number;
  /** Process create: the new process (0 when the creation was blocked); else 0. */
  newProcessId: number;
  /** NT path of the file, or of the new image. */
  targetPath: string;
  /** NT path of the acting process's image. */
  imagePath: string;
  /** NT path of its parent's image ('' when unknown or exited). */
  parentImagePath: string;
  /** Process create: the new process's command line; else ''. */
  commandLine: string;
  userSid: string;
  /** The acting process's current directory (DOS form; '' when unknown). */
  currentDirectory: string;
}

export interface EventBatch {
  /** Records the driver dropped (ring full) since the previous batch. */
  dropped: bigint;
  firstSequence: bigint;
  events: DriverEvent[];
}
