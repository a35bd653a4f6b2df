/** Shared fixtures of the pipeline's tests: events, a drive-map translator, a collecting sink. */
import { Decision, EventType, NTSTATUS, type DriverEvent, type EventBatch } from '../../driver/abi/types.js';
import type { PathTranslator } from '../../driver/client/types.js';
import type { ProvenanceLookup, RuleProvenance } from '../policy/provenance.js';
import { UNIX_EPOCH_FILETIME } from './filetime.js';
import type { AlertRecord, EventSink, LogRecord, MessageRecord } from './types.js';

export const VOLUME = '\\Device\\HarddiskVolume3';

/** `\Device\HarddiskVolume3\x` ↔ `C:\x`, counting conversions (to prove caching). */
export class DriveMap implements PathTranslator {
  conversions = 0;
  toDriver(path: string): string {
    return /^c:/i.test(path) ? VOLUME + path.slice(2) : path;
  }
  fromDriver(path: string): string {
    this.conversions++;
    return path.toLowerCase().startsWith(VOLUME.toLowerCase() + '\\') ? 'C:' + path.slice(VOLUME.length) : path;
  }
  missingVolume(path: string): string | undefined {
    return /^[a-bd-z]:/i.test(path) ? path.slice(0, 2).toUpperCase() : undefined;
  }
}

export const nt = (dos: string): string => VOLUME + dos.slice(2);

export const filetimeOf = (iso: string): bigint => UNIX_EPOCH_FILETIME + BigInt(Date.parse(iso)) * 10_000n;

export function driverEvent(over: Partial<DriverEvent> = {}): DriverEvent {
  return {
    type: EventType.FileOpen,
    decision: Decision.Block,
    time: filetimeOf('2026-11-21T10:00:00Z') + 1_234_567n,
    ruleId: 0x1234n,
    processId: 4321,
    parentProcessId: 1000,
    threadId: 7,
    status: NTSTATUS.accessDenied,
    desiredAccess: 1,
    sessionId: 1,
    newProcessId: 0,
    targetPath: nt('C:\\secret\\key.txt'),
    imagePath: nt('C:\\Windows\\System32\\notepad.exe'),
    parentImagePath: nt('C:\\Windows\\explorer.exe'),
    commandLine: '',
    userSid: 'S-1-5-18',
    currentDirectory: 'C:\\Users\\alice\\',
    ...over,
  };
}

export function lookup(entries: RuleProvenance[]): ProvenanceLookup & { map: Map<bigint, RuleProvenance> } {
  const map = new Map(entries.map((p) => [p.ruleId, p]));
  return { map, lookup: (id) => map.get(id) };
}

export class CollectingSink implements EventSink {
  alerts: AlertRecord[] = [];
  logs: LogRecord[] = [];
  messages: MessageRecord[] = [];
  alert(a: AlertRecord): void { this.alerts.push(a); }
  log(l: LogRecord): void { this.logs.push(l); }
  message(m: MessageRecord): void { this.messages.push(m); }
}

export function batch(events: DriverEvent[], dropped = 0n): EventBatch {
  return { dropped, firstSequence: 1n, events };
}

export async function* fromBatches(batches: EventBatch[]): AsyncGenerator<EventBatch> {
  for (const b of batches) yield b;
}
