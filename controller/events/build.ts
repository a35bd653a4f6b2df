/**
 * One driver event → one KubeArmor Alert or Log (or nothing), with the field semantics
 * of the wire facts. The builder owns the per-event caches (time, paths, pids, SIDs,
 * enrichment) and fills a scratch object first, so the record literals below are the
 * only allocations on the hot path and always have one shape.
 */
import { Decision, EventType, NTSTATUS } from '../../driver/abi/types.js';
import type { HostEvent } from '../../driver/client/index.js';
import type { ProvenanceLookup } from '../policy/provenance.js';
import { AccessTextCache } from './access.js';
import { EventDataCache } from './event-data.js';
import { Enricher } from './enrich.js';
import { TimeFormatter } from './time.js';
import { ProcessTable, SidTable } from './identity.js';
import { commandLineArguments } from './command-line.js';
import type { AlertRecord, LogRecord } from './types.js';

export interface RecordBuilderOptions {
  hostName: string;
  clusterName: string;
  provenance: ProvenanceLookup;
  /** Unmatched operations (and exits) become `HostLog` records: per kind, or both. */
  hostTelemetry: boolean | HostTelemetry;
  /** Allow-rule matches become alerts (otherwise logs when telemetry is on). */
  allowAlerts: boolean;
  /** Enforcer field of alerts: the mechanism that enforced (see docs/events.md). */
  enforcer?: string;
  /** NodeID field: the machine id (Windows MachineGuid, Linux /etc/machine-id), else the node name. */
  nodeId?: string;
  /** KubeArmorVersion field of alerts. */
  agentVersion?: string;
  processTableSize?: number;
  sidCacheSize?: number;
}

export const BUILDER_DEFAULTS = {
  enforcer: 'KawinMinifilter',
  processTableSize: 32768,
  sidCacheSize: 1024,
} as const;

export type Route = 'alert' | 'log' | 'ignore' | 'unsupported';

/** config `hostTelemetry`: which kinds of unmatched operations are reported as logs. */
export interface HostTelemetry {
  process: boolean;
  file: boolean;
}

export const RESULT_PASSED = 'Passed';
export const RESULT_DENIED = 'Permission denied';

/** Upstream's Result: `Passed`, or the error text of the failed call. */
export function resultText(status: number): string {
  if (status === NTSTATUS.accessDenied) return RESULT_DENIED;
  // NT_ERROR: severity bits 11; warnings and informational codes still passed.
  if (status >>> 30 === 3) return `NTSTATUS 0x${(status >>> 0).toString(16).padStart(8, '0')}`;
  return RESULT_PASSED;
}

interface Facts {
  pid: number;
  ppid: number;
  seconds: number;
  updatedTime: string;
  operation: string;
  source: string;
  resource: string;
  data: string;
  result: string;
  processName: string;
  parentProcessName: string;
  uid: number;
  userName: string;
  cwd: string;
}

export class RecordBuilder {
  readonly processes: ProcessTable;
  readonly sids: SidTable;
  readonly enricher: Enricher;
  private readonly time = new TimeFormatter();
  private readonly access = new AccessTextCache();
  private readonly eventData = new EventDataCache();
  private readonly enforcer: string;
  private readonly nodeId: string;
  private readonly version: string;
  private telemetry: HostTelemetry;
  private readonly f: Facts = {
    pid: 0, ppid: 0, cwd: '', seconds: 0, updatedTime: '', operation: '', source: '', resource: '', data: '', result: '',
    processName: '', parentProcessName: '', uid: 0, userName: '',
  };

  constructor(private readonly o: RecordBuilderOptions) {
    this.processes = new ProcessTable(o.processTableSize ?? BUILDER_DEFAULTS.processTableSize);
    this.sids = new SidTable(o.sidCacheSize ?? BUILDER_DEFAULTS.sidCacheSize);
    this.enricher = new Enricher(o.provenance);
    this.enforcer = o.enforcer ?? BUILDER_DEFAULTS.enforcer;
    this.nodeId = o.nodeId ?? o.hostName;
    this.version = o.agentVersion ?? '';
    const t = o.hostTelemetry;
    this.telemetry = typeof t === 'boolean' ? { process: t, file: t } : { ...t };
  }

  /** Live config change of `hostTelemetry`. */
  setHostTelemetry(t: boolean | HostTelemetry): void {
    this.telemetry = typeof t === 'boolean' ? { process: t, file: t } : { ...t };
  }

  /** What an event becomes; also keeps the pid→image table current. */
  route(ev: HostEvent): Route {
    let telemetry = this.telemetry.file;
    if (ev.type === EventType.ProcessCreate) {
      this.processes.started(ev.newProcessId, ev.targetPath);
      telemetry = this.telemetry.process;
    } else if (ev.type === EventType.ProcessExit) {
      return this.telemetry.process ? 'log' : 'ignore';
    } else if (ev.type !== EventType.FileOpen) {
      return 'unsupported';
    }
    if (ev.decision !== Decision.Allow) return 'alert';
    if (ev.ruleId !== 0n && this.o.allowAlerts) return 'alert';
    return telemetry ? 'log' : 'ignore';
  }

  /** Call after building the records of an event (drops exited pids from the table). */
  settle(ev: HostEvent): void {
    if (ev.type === EventType.ProcessExit) this.processes.exited(ev.processId);
  }

  alert(ev: HostEvent): AlertRecord {
    const f = this.facts(ev);
    const e = this.enricher.enrich(ev.decision, ev.ruleId);
    return {
      Timestamp: f.seconds, UpdatedTime: f.updatedTime, ClusterName: this.o.clusterName,
      HostName: this.o.hostName, NamespaceName: '', PodName: '', ContainerID: '', ContainerName: '',
      HostPID: f.pid, PPID: f.ppid, PID: f.pid, UID: f.uid,
      PolicyName: e.policyName, Severity: e.severity, Tags: e.tags, Message: e.message,
      Type: 'MatchedHostPolicy', Source: f.source, Operation: f.operation, Resource: f.resource,
      Data: f.data, Action: e.action, Result: f.result, ContainerImage: '',
      ParentProcessName: f.parentProcessName, ProcessName: f.processName,
      HostPPID: f.ppid, Enforcer: this.enforcer, Labels: '', ATags: e.atags,
      Owner: undefined, Cwd: f.cwd, TTY: '', MaxAlertsPerSec: 0, DroppingAlertsInterval: 0,
      ExecEvent: undefined, KubeArmorVersion: this.version, NodeID: this.nodeId, ProcessHash: '',
      ParentHash: '', ResourceHash: '', HashAlgo: '', EventData: this.eventData.of(f.data), UserName: f.userName,
    };
  }

  log(ev: HostEvent): LogRecord {
    const f = this.facts(ev);
    return {
      Timestamp: f.seconds, UpdatedTime: f.updatedTime, ClusterName: this.o.clusterName,
      HostName: this.o.hostName, NamespaceName: '', PodName: '', ContainerID: '', ContainerName: '',
      HostPID: f.pid, PPID: f.ppid, PID: f.pid, UID: f.uid,
      Type: 'HostLog', Source: f.source, Operation: f.operation, Resource: f.resource,
      Data: f.data, Result: f.result, ContainerImage: '', ParentProcessName: f.parentProcessName,
      ProcessName: f.processName, HostPPID: f.ppid, Labels: '', Owner: undefined,
      Cwd: f.cwd, TTY: '', ExecEvent: undefined, NodeID: this.nodeId, ProcessHash: '', ParentHash: '',
      ResourceHash: '', HashAlgo: '', EventData: this.eventData.of(f.data), UserName: f.userName,
    };
  }

  private facts(ev: HostEvent): Facts {
    const f = this.f;
    const t = this.time.format(ev.timeMicros);
    f.seconds = t.seconds;
    f.updatedTime = t.text;
    const who = this.sids.identity(ev.userSid);
    f.uid = who.uid;
    f.userName = who.userName;
    f.result = resultText(ev.status);
    f.cwd = ev.currentDirectory;
    f.pid = ev.processId | 0;
    f.ppid = ev.parentProcessId | 0;
    if (ev.type === EventType.FileOpen) this.fileFacts(ev, f);
    else if (ev.type === EventType.ProcessCreate) this.createFacts(ev, f);
    else this.exitFacts(ev, f);
    return f;
  }

  /** Image of a process: from the event, else from the pid table. */
  private imageOf(image: string, pid: number): string {
    return image || this.processes.image(pid);
  }

  private fileFacts(ev: HostEvent, f: Facts): void {
    const image = this.imageOf(ev.imagePath, ev.processId);
    f.operation = 'File';
    f.processName = image;
    f.source = image;
    f.parentProcessName = this.imageOf(ev.parentImagePath, ev.parentProcessId);
    f.resource = ev.targetPath;
    f.data = this.access.text(ev.desiredAccess);
  }

  /**
   * As upstream reports an exec: a started process is PID (the new process) with the
   * creator as parent; a blocked start is reported by the process that tried it (the
   * creator, with its own parent), as upstream's PID is the task whose exec was denied.
   */
  private createFacts(ev: HostEvent, f: Facts): void {
    const image = ev.targetPath;
    const creator = this.imageOf(ev.imagePath, ev.processId);
    const args = ev.commandLine === '' ? '' : commandLineArguments(ev.commandLine);
    f.operation = 'Process';
    f.processName = image;
    f.source = creator;
    f.resource = args === '' ? image : `${image} ${args}`;
    f.data = 'event=ProcessCreate';
    if (ev.newProcessId !== 0) {
      f.pid = ev.newProcessId | 0;
      f.ppid = ev.processId | 0;
      f.parentProcessName = creator;
    } else {
      f.parentProcessName = this.imageOf(ev.parentImagePath, ev.parentProcessId);
    }
  }

  private exitFacts(ev: HostEvent, f: Facts): void {
    const image = this.imageOf(ev.imagePath || ev.targetPath, ev.processId);
    f.operation = 'Process';
    f.processName = image;
    f.parentProcessName = this.imageOf(ev.parentImagePath, ev.parentProcessId);
    f.source = image;
    f.resource = image;
    f.data = 'event=ProcessExit';
  }
}
