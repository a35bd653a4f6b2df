/** Shared fixtures of the pipeline's tests: host events, a collecting sink. */
import { Decision, EventType, NTSTATUS } from '../../driver/abi/types.js';
import type { HostEvent, HostEventBatch } from '../../driver/client/index.js';
import type { ProvenanceLookup, RuleProvenance } from '../policy/provenance.js';
import type { AlertRecord, EventSink, LogRecord, MessageRecord } from './types.js';

/** Unix microseconds of an ISO time. */
export const microsOf = (iso: string): number => Date.parse(iso) * 1000;

export function hostEvent(over: Partial<HostEvent> = {}): HostEvent {
  return {
    type: EventType.FileOpen,
    decision: Decision.Block,
    timeMicros: microsOf('2026-11-21T10:00:00Z') + 123_456,
    ruleId: 0x1234n,
    processId: 4321,
    parentProcessId: 1000,
    threadId: 7,
    status: NTSTATUS.accessDenied,
    desiredAccess: 1,
    sessionId: 1,
    newProcessId: 0,
    targetPath: 'C:\\secret\\key.txt',
    imagePath: 'C:\\Windows\\System32\\notepad.exe',
    parentImagePath: 'C:\\Windows\\explorer.exe',
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

export function batch(events: HostEvent[], dropped = 0n): HostEventBatch {
  return { dropped, firstSequence: 1n, events, pathCacheEvictions: 0 };
}

export async function* fromBatches(batches: HostEventBatch[]): AsyncGenerator<HostEventBatch> {
  for (const b of batches) yield b;
}
