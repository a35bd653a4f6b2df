/**
 * Sizes and field offsets of every struct of kawin_abi.h (and the emulator's decision
 * struct), plus the numeric constants. The codec reads its offsets from this table, and
 * layout.test.ts compares it with the C compiler's answer (KawinEmu_GetLayout), so a
 * drift between header and codec fails a test instead of corrupting the wire.
 */
import {
  ABI_VERSION, ACCESS, CONFIG_FLAG_CASE_FOLD, DEVICE_TYPE, Decision, EventType, Flavor, IOCTL, LIMITS, LIST_FLAG_MORE,
  MatchType, NTSTATUS, Posture, REPORT, RULE_FLAG_READ_ONLY, RuleAction, RuleKind, WIN32, WRITE_ACCESS,
} from './types.js';

export interface StructLayout {
  readonly size: number;
  readonly fields: Readonly<Record<string, number>>;
}

const struct = <F extends Record<string, number>>(size: number, fields: F): { size: number; fields: F } =>
  ({ size, fields });

export const HEADER = struct(16, { Version: 0, Size: 2, Flags: 4, Count: 8, TotalSize: 12 });
export const RULE = struct(24, {
  Size: 0, Kind: 4, MatchType: 5, Action: 6, SourceMatchType: 7, Id: 8, Flags: 16,
  PathBytes: 20, SourcePathBytes: 22,
});
export const APPLY_REQUEST = struct(32, { Header: 0, ExpectedGeneration: 16, RemoveCount: 24, AddCount: 28 });
export const APPLY_RESULT = struct(24, { Generation: 0, Added: 8, Replaced: 12, Removed: 16, Missing: 20 });
export const LIST_REQUEST = struct(24, { Header: 0, Cursor: 16 });
export const LIST_RESPONSE = struct(40, {
  Header: 0, Generation: 16, NextCursor: 24, TotalRules: 32, RequiredSize: 36,
});
export const CONFIG = struct(16, {
  Flags: 0, EventMask: 4, ProcessPosture: 8, FilePosture: 9, NetworkPosture: 10, RegistryPosture: 11,
  Reserved: 12,
});
export const SET_CONFIG_REQUEST = struct(32, { Header: 0, Config: 16 });
export const STATE = struct(64, {
  Version: 0, Size: 2, Flavor: 4, Generation: 8, RuleCount: 16, PortConnected: 20, EventsEmitted: 24,
  EventsDropped: 32, RingCapacity: 40, RingUsed: 44, Config: 48,
});
export const FILTER_MESSAGE_HEADER = struct(16, { ReplyLength: 0, Padding: 4, MessageId: 8 });
export const FILTER_REPLY_HEADER = struct(16, { Status: 0, Padding: 4, MessageId: 8 });
export const EVENT_BATCH = struct(32, {
  Version: 0, Size: 2, RecordCount: 4, TotalSize: 8, Flags: 12, Dropped: 16, FirstSequence: 24,
});
export const EVENT = struct(64, {
  Size: 0, Type: 4, Decision: 6, Reserved0: 7, Time: 8, RuleId: 16, ProcessId: 24, ParentProcessId: 28,
  ThreadId: 32, Status: 36, DesiredAccess: 40, SessionId: 44, NewProcessId: 48, TargetPathBytes: 52,
  ImagePathBytes: 54, ParentImagePathBytes: 56, CommandLineBytes: 58, UserSidBytes: 60, CurrentDirectoryBytes: 62,
});
export const EMU_DECISION = struct(24, { Decision: 0, Status: 4, RuleId: 8, ProcessId: 16, Reserved: 20 });

/** Every struct by its C name, as KawinEmu_GetLayout names them. */
export const structs: Readonly<Record<string, StructLayout>> = {
  KAWIN_HEADER: HEADER,
  KAWIN_RULE: RULE,
  KAWIN_APPLY_REQUEST: APPLY_REQUEST,
  KAWIN_APPLY_RESULT: APPLY_RESULT,
  KAWIN_LIST_REQUEST: LIST_REQUEST,
  KAWIN_LIST_RESPONSE: LIST_RESPONSE,
  KAWIN_CONFIG: CONFIG,
  KAWIN_SET_CONFIG_REQUEST: SET_CONFIG_REQUEST,
  KAWIN_STATE: STATE,
  KAWIN_FILTER_MESSAGE_HEADER: FILTER_MESSAGE_HEADER,
  KAWIN_FILTER_REPLY_HEADER: FILTER_REPLY_HEADER,
  KAWIN_EVENT_BATCH: EVENT_BATCH,
  KAWIN_EVENT: EVENT,
  KAWIN_EMU_DECISION: EMU_DECISION,
};

/** Numeric constants of the header, by their C macro names. */
export const constants: Readonly<Record<string, number>> = {
  KAWIN_ABI_VERSION: ABI_VERSION,
  KAWIN_DEVICE_TYPE: DEVICE_TYPE,
  IOCTL_KAWIN_ADD_RULES: IOCTL.ADD_RULES,
  IOCTL_KAWIN_REMOVE_RULES: IOCTL.REMOVE_RULES,
  IOCTL_KAWIN_LIST_RULES: IOCTL.LIST_RULES,
  IOCTL_KAWIN_GET_STATE: IOCTL.GET_STATE,
  IOCTL_KAWIN_SET_CONFIG: IOCTL.SET_CONFIG,
  IOCTL_KAWIN_APPLY: IOCTL.APPLY,
  KAWIN_MAX_RULES: LIMITS.maxRules,
  KAWIN_MAX_IOCTL_INPUT: LIMITS.maxIoctlInput,
  KAWIN_MAX_PATH_BYTES: LIMITS.maxPathBytes,
  KAWIN_MAX_MESSAGE_BYTES: LIMITS.maxMessageBytes,
  KAWIN_DEFAULT_RING_CAPACITY: LIMITS.defaultRingCapacity,
  KAWIN_FLAVOR_WINDOWS: Flavor.Windows,
  KAWIN_FLAVOR_POSIX: Flavor.Posix,
  KAWIN_KIND_PROCESS: RuleKind.Process,
  KAWIN_KIND_FILE: RuleKind.File,
  KAWIN_KIND_REGISTRY: RuleKind.Registry,
  KAWIN_KIND_NETWORK: RuleKind.Network,
  KAWIN_MATCH_NONE: MatchType.None,
  KAWIN_MATCH_EXACT: MatchType.Exact,
  KAWIN_MATCH_DIRECTORY: MatchType.Directory,
  KAWIN_MATCH_RECURSIVE: MatchType.Recursive,
  KAWIN_MATCH_GLOB: MatchType.Glob,
  KAWIN_ACTION_ALLOW: RuleAction.Allow,
  KAWIN_ACTION_AUDIT: RuleAction.Audit,
  KAWIN_ACTION_BLOCK: RuleAction.Block,
  KAWIN_POSTURE_AUDIT: Posture.Audit,
  KAWIN_POSTURE_BLOCK: Posture.Block,
  KAWIN_DECISION_ALLOW: Decision.Allow,
  KAWIN_DECISION_AUDIT: Decision.Audit,
  KAWIN_DECISION_BLOCK: Decision.Block,
  KAWIN_DECISION_POSTURE_AUDIT: Decision.PostureAudit,
  KAWIN_DECISION_POSTURE_BLOCK: Decision.PostureBlock,
  KAWIN_EVENT_PROCESS_CREATE: EventType.ProcessCreate,
  KAWIN_EVENT_PROCESS_EXIT: EventType.ProcessExit,
  KAWIN_EVENT_FILE_OPEN: EventType.FileOpen,
  KAWIN_EVENT_IMAGE_LOAD: EventType.ImageLoad,
  KAWIN_EVENT_REGISTRY: EventType.Registry,
  KAWIN_RULE_READ_ONLY: RULE_FLAG_READ_ONLY,
  KAWIN_LIST_MORE: LIST_FLAG_MORE,
  KAWIN_CONFIG_CASE_FOLD: CONFIG_FLAG_CASE_FOLD,
  KAWIN_REPORT_ALLOW_MATCHES: REPORT.allowMatches,
  KAWIN_REPORT_UNMATCHED_PROCESS: REPORT.unmatchedProcess,
  KAWIN_REPORT_UNMATCHED_FILE: REPORT.unmatchedFile,
  KAWIN_REPORT_PROCESS_EXIT: REPORT.processExit,
  KAWIN_ACCESS_READ_DATA: ACCESS.readData,
  KAWIN_ACCESS_WRITE_DATA: ACCESS.writeData,
  KAWIN_ACCESS_APPEND_DATA: ACCESS.appendData,
  KAWIN_ACCESS_WRITE_EA: ACCESS.writeEa,
  KAWIN_ACCESS_EXECUTE: ACCESS.execute,
  KAWIN_ACCESS_WRITE_ATTRIBUTES: ACCESS.writeAttributes,
  KAWIN_ACCESS_DELETE: ACCESS.delete,
  KAWIN_ACCESS_WRITE_DAC: ACCESS.writeDac,
  KAWIN_ACCESS_WRITE_OWNER: ACCESS.writeOwner,
  KAWIN_ACCESS_GENERIC_ALL: ACCESS.genericAll,
  KAWIN_ACCESS_GENERIC_WRITE: ACCESS.genericWrite,
  KAWIN_WRITE_ACCESS: WRITE_ACCESS >>> 0,
  KAWIN_STATUS_SUCCESS: NTSTATUS.success,
  KAWIN_STATUS_ACCESS_DENIED: NTSTATUS.accessDenied,
  KAWIN_STATUS_REVISION_MISMATCH: NTSTATUS.revisionMismatch,
  KAWIN_ERROR_FILE_NOT_FOUND: WIN32.fileNotFound,
  KAWIN_ERROR_ACCESS_DENIED: WIN32.accessDenied,
  KAWIN_ERROR_INVALID_HANDLE: WIN32.invalidHandle,
  KAWIN_ERROR_INVALID_FUNCTION: WIN32.invalidFunction,
  KAWIN_ERROR_INVALID_PARAMETER: WIN32.invalidParameter,
  KAWIN_ERROR_INSUFFICIENT_BUFFER: WIN32.insufficientBuffer,
  KAWIN_ERROR_MORE_DATA: WIN32.moreData,
  KAWIN_ERROR_OPERATION_ABORTED: WIN32.operationAborted,
  KAWIN_ERROR_REVISION_MISMATCH: WIN32.revisionMismatch,
  KAWIN_ERROR_CONNECTION_COUNT_LIMIT: WIN32.connectionCountLimit,
  KAWIN_ERROR_NOT_ENOUGH_QUOTA: WIN32.notEnoughQuota,
  KAWIN_ERROR_GEN_FAILURE: WIN32.genFailure,
};

export const layout = { abiVersion: ABI_VERSION, structs, constants } as const;
