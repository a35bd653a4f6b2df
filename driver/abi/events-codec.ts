/**
 * Event port messages: FILTER_MESSAGE_HEADER, KAWIN_EVENT_BATCH, then KAWIN_EVENT records
 * with their strings. Decoding is the event pipeline's hot path: offsets are hoisted into
 * constants, strings are sliced straight from the bytes, and the only allocations per
 * record are the event object, its strings and its two bigints.
 */
import { EVENT, EVENT_BATCH, FILTER_MESSAGE_HEADER } from './layout.js';
import { ABI_VERSION, Decision, EventType, LIMITS, type DriverEvent, type EventBatch } from './types.js';
import { cursorOf } from './control-codec.js';
import { AbiDecodeError, align8, checkStringBytes, dataView, need, readUtf16, writeUtf16 } from './wire.js';

/** A decoded port message: the batch plus the Filter Manager's message id. */
export interface EventMessage extends EventBatch {
  messageId: bigint;
}

const MSG = FILTER_MESSAGE_HEADER.size;
const B = EVENT_BATCH.fields;
const E = EVENT.fields;
const E_SIZE = EVENT.size;
const BATCH = 'KAWIN_EVENT_BATCH';
const NAME = 'KAWIN_EVENT';

function fail(offset: number, problem: string): never {
  throw new AbiDecodeError(NAME, offset, problem);
}

/** The string fields in wire order (after the fixed part). */
const STRINGS = [
  ['targetPath', E.TargetPathBytes], ['imagePath', E.ImagePathBytes], ['parentImagePath', E.ParentImagePathBytes],
  ['commandLine', E.CommandLineBytes], ['userSid', E.UserSidBytes], ['currentDirectory', E.CurrentDirectoryBytes],
] as const;

function decodeEvent(view: DataView, text: Buffer, at: number, end: number): DriverEvent {
  if (at + E_SIZE > end) fail(at, `needs ${E_SIZE} bytes, only ${end - at} left`);
  const size = view.getUint32(at, true);
  if (size < E_SIZE || (size & 7) !== 0 || at + size > end) fail(at, `Size ${size} invalid (${end - at} bytes left)`);
  const type = view.getUint16(at + E.Type, true);
  if (type < EventType.ProcessCreate || type > EventType.Registry) fail(at, `Type ${type} is not a known value`);
  const decision = view.getUint8(at + E.Decision);
  if (decision < Decision.Allow || decision > Decision.PostureBlock) fail(at, `Decision ${decision} is not a known value`);
  const target = view.getUint16(at + E.TargetPathBytes, true);
  const image = view.getUint16(at + E.ImagePathBytes, true);
  const parent = view.getUint16(at + E.ParentImagePathBytes, true);
  const cmd = view.getUint16(at + E.CommandLineBytes, true);
  const sid = view.getUint16(at + E.UserSidBytes, true);
  const cwd = view.getUint16(at + E.CurrentDirectoryBytes, true);
  if (((target | image | parent | cmd | sid | cwd) & 1) !== 0) fail(at, 'a string byte length is odd');
  if (E_SIZE + target + image + parent + cmd + sid + cwd > size) fail(at, `strings overflow Size ${size}`);
  let s = at + E_SIZE;
  const targetPath = readUtf16(text, s, target);
  s += target;
  const imagePath = readUtf16(text, s, image);
  s += image;
  const parentImagePath = readUtf16(text, s, parent);
  s += parent;
  const commandLine = readUtf16(text, s, cmd);
  s += cmd;
  const userSid = readUtf16(text, s, sid);
  s += sid;
  return {
    type,
    decision,
    time: view.getBigUint64(at + E.Time, true),
    ruleId: view.getBigUint64(at + E.RuleId, true),
    processId: view.getUint32(at + E.ProcessId, true),
    parentProcessId: view.getUint32(at + E.ParentProcessId, true),
    threadId: view.getUint32(at + E.ThreadId, true),
    status: view.getUint32(at + E.Status, true),
    desiredAccess: view.getUint32(at + E.DesiredAccess, true),
    sessionId: view.getUint32(at + E.SessionId, true),
    newProcessId: view.getUint32(at + E.NewProcessId, true),
    targetPath,
    imagePath,
    parentImagePath,
    commandLine,
    userSid,
    currentDirectory: readUtf16(text, s, cwd),
  };
}

/**
 * Decodes one port message. `length` is the bytes the read returned when known; a
 * synchronous FilterGetMessage does not say, so the batch's TotalSize bounds the message
 * and must fit in the buffer.
 */
export function decodeEventMessage(bytes: Uint8Array, length = bytes.byteLength): EventMessage {
  const { view, text, end } = cursorOf(bytes, length);
  need('KAWIN_FILTER_MESSAGE_HEADER', 0, MSG + EVENT_BATCH.size, end);
  const version = view.getUint16(MSG + B.Version, true);
  if (version !== ABI_VERSION) throw new AbiDecodeError(BATCH, MSG, `Version ${version}, expected ${ABI_VERSION}`);
  const headerSize = view.getUint16(MSG + B.Size, true);
  const total = view.getUint32(MSG + B.TotalSize, true);
  if (headerSize < EVENT_BATCH.size || (headerSize & 7) !== 0 || headerSize > total) {
    throw new AbiDecodeError(BATCH, MSG, `Size ${headerSize} invalid (TotalSize ${total})`);
  }
  if (MSG + total > end) throw new AbiDecodeError(BATCH, MSG, `TotalSize ${total} exceeds the ${end - MSG} bytes received`);
  const count = view.getUint32(MSG + B.RecordCount, true);
  const stop = MSG + total;
  // Each record takes at least E_SIZE bytes: reject absurd counts before looping.
  if (count > (total - headerSize) / E_SIZE) throw new AbiDecodeError(BATCH, MSG, `RecordCount ${count} cannot fit in TotalSize ${total}`);
  const events: DriverEvent[] = new Array<DriverEvent>(count);
  let at = MSG + headerSize;
  for (let i = 0; i < count; i++) {
    const ev = decodeEvent(view, text, at, stop);
    events[i] = ev;
    at += view.getUint32(at, true);
  }
  if (at !== stop) throw new AbiDecodeError(BATCH, at, `${stop - at} bytes after the last of ${count} records`);
  return {
    messageId: view.getBigUint64(FILTER_MESSAGE_HEADER.fields.MessageId, true),
    dropped: view.getBigUint64(MSG + B.Dropped, true),
    firstSequence: view.getBigUint64(MSG + B.FirstSequence, true),
    events,
  };
}

function eventSize(e: DriverEvent): number {
  return align8(STRINGS.reduce((n, [name]) => n + checkStringBytes('event string', e[name], LIMITS.maxPathBytes), E_SIZE));
}

function encodeEventAt(view: DataView, at: number, e: DriverEvent): number {
  const size = eventSize(e);
  view.setUint32(at + E.Size, size, true);
  view.setUint16(at + E.Type, e.type, true);
  view.setUint8(at + E.Decision, e.decision);
  view.setBigUint64(at + E.Time, e.time, true);
  view.setBigUint64(at + E.RuleId, e.ruleId, true);
  view.setUint32(at + E.ProcessId, e.processId, true);
  view.setUint32(at + E.ParentProcessId, e.parentProcessId, true);
  view.setUint32(at + E.ThreadId, e.threadId, true);
  view.setUint32(at + E.Status, e.status >>> 0, true);
  view.setUint32(at + E.DesiredAccess, e.desiredAccess >>> 0, true);
  view.setUint32(at + E.SessionId, e.sessionId, true);
  view.setUint32(at + E.NewProcessId, e.newProcessId, true);
  let s = at + E_SIZE;
  for (const [name, field] of STRINGS) {
    const n = writeUtf16(view, s, e[name]);
    view.setUint16(at + field, n, true);
    s += n;
  }
  return size;
}

/** Encodes a port message as the driver sends it (tests, fuzzing and benchmarks). */
export function encodeEventMessage(batch: EventBatch, messageId = 0n): Uint8Array {
  const total = EVENT_BATCH.size + batch.events.reduce((n, e) => n + eventSize(e), 0);
  const bytes = new Uint8Array(MSG + total);
  const view = dataView(bytes);
  view.setBigUint64(FILTER_MESSAGE_HEADER.fields.MessageId, messageId, true);
  view.setUint16(MSG + B.Version, ABI_VERSION, true);
  view.setUint16(MSG + B.Size, EVENT_BATCH.size, true);
  view.setUint32(MSG + B.RecordCount, batch.events.length, true);
  view.setUint32(MSG + B.TotalSize, total, true);
  view.setBigUint64(MSG + B.Dropped, batch.dropped, true);
  view.setBigUint64(MSG + B.FirstSequence, batch.firstSequence, true);
  let at = MSG + EVENT_BATCH.size;
  for (const e of batch.events) at += encodeEventAt(view, at, e);
  return bytes;
}

/** FILETIME (100 ns ticks since 1601-01-01 UTC) of the Unix epoch. */
export const FILETIME_UNIX_EPOCH = 116444736000000000n;

export function filetimeToUnixMs(ft: bigint): number {
  return Number(ft - FILETIME_UNIX_EPOCH) / 10_000;
}

export function unixMsToFiletime(ms: number): bigint {
  return FILETIME_UNIX_EPOCH + BigInt(Math.round(ms * 10_000));
}

export function filetimeToDate(ft: bigint): Date {
  return new Date(filetimeToUnixMs(ft));
}
