/**
 * The TypeScript mirror of kawin_abi.h: encoders and validating decoders for every ABI
 * struct, built on DataView with UTF-16LE strings. Decoders throw AbiDecodeError (struct,
 * byte offset, what was wrong) on anything malformed and never read out of bounds.
 */
export { AbiDecodeError, AbiEncodeError } from './wire.js';
export { layout, structs, constants, type StructLayout } from './layout.js';
export { AS_IS_PARTS, asIs, decodeRuleAt, driverPathBytes, encodeRuleAt, ruleSize, type DriverPathParts, type PathMapping, type PathParts } from './rules-codec.js';
export {
  applyRequestSize, decodeAddRules, decodeApplyRequest, decodeApplyResult, decodeListPageInto, decodeListRequest, decodeListResponse,
  decodeRemoveRules, encodeAddRules, encodeApplyRequest, encodeApplyRequestInSteps, encodeApplyResult, encodeListRequest, encodeListResponse,
  encodeRemoveRules, type ListPage,
} from './control-codec.js';
export { RuleRecords } from './rule-records.js';
export { decodeSetConfig, decodeState, encodeGetState, encodeSetConfig, encodeState } from './state-codec.js';
export {
  decodeEventMessage, encodeEventMessage, filetimeToDate, filetimeToUnixMs, unixMsToFiletime, FILETIME_UNIX_EPOCH,
  type EventMessage,
} from './events-codec.js';
