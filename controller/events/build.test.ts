import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Decision, EventType, NTSTATUS } from '../../driver/abi/types.js';
import type { HostEvent } from '../../driver/client/index.js';
import type { RuleProvenance } from '../policy/provenance.js';
import { RecordBuilder, resultText, type RecordBuilderOptions } from './build.js';
import { commandLineArguments } from './command-line.js';
import { identityFromSid } from './identity.js';
import { accessText } from './access.js';
import { hostEvent, lookup } from './test-fixtures.js';

const BLOCK_SECRETS: RuleProvenance = {
  ruleId: 0x1234n,
  action: 'Block',
  origins: [{ kind: 'KubeArmorHostPolicy', policy: 'block-secrets', severity: 5, tags: ['MITRE', 'T1005'], message: 'no secrets' }],
};
const AUDIT_LOGS: RuleProvenance = {
  ruleId: 0x55n,
  action: 'Audit',
  origins: [{ kind: 'KubeArmorHostPolicy', policy: 'audit-logs', severity: 0, tags: [], message: '' }],
};
const ALLOW_TOOLS: RuleProvenance = {
  ruleId: 0x77n,
  action: 'Allow',
  origins: [{ kind: 'KubeArmorHostPolicy', policy: 'allow-tools', severity: 1, tags: ['ops'], message: 'tools ok' }],
};
const MERGED: RuleProvenance = {
  ruleId: 0x99n,
  action: 'Block',
  origins: [
    { kind: 'KubeArmorHostPolicy', policy: 'zz-high', severity: 9, tags: ['pci'], message: 'from the highest' },
    { kind: 'KubeArmorHostPolicy', policy: 'aa-low', severity: 2, tags: ['other'], message: 'not shown' },
  ],
};

function builder(over: Partial<RecordBuilderOptions> = {}): RecordBuilder {
  return new RecordBuilder({
    hostName: 'win-node-1', clusterName: 'prod',
    provenance: lookup([BLOCK_SECRETS, AUDIT_LOGS, ALLOW_TOOLS, MERGED]),
    hostTelemetry: true, allowAlerts: false, ...over,
  });
}

const COMMON = {
  ClusterName: 'prod', HostName: 'win-node-1', Timestamp: Date.parse('2026-11-21T10:00:00Z') / 1000,
  UpdatedTime: '2026-11-21T10:00:00.123456Z', NamespaceName: '', PodName: '', ContainerID: '',
  HostPID: 4321, PID: 4321, PPID: 1000, HostPPID: 1000, UID: 0, UserName: 'NT AUTHORITY\\SYSTEM',
  Cwd: 'C:\\Users\\alice\\', NodeID: 'win-node-1',
};
const NOTEPAD = 'C:\\Windows\\System32\\notepad.exe';
const FILE = {
  Operation: 'File', Source: NOTEPAD, ProcessName: NOTEPAD, ParentProcessName: 'C:\\Windows\\explorer.exe',
  Resource: 'C:\\secret\\key.txt', Data: 'access=READ_DATA',
};

interface Case {
  name: string;
  event: Partial<HostEvent>;
  options?: Partial<RecordBuilderOptions>;
  route: 'alert' | 'log' | 'ignore';
  expect?: Record<string, unknown>;
}

const CASES: Case[] = [
  {
    name: 'Block by a rule → MatchedHostPolicy alert, Permission denied, provenance fields',
    event: {}, route: 'alert',
    expect: {
      ...COMMON, ...FILE, Type: 'MatchedHostPolicy', Action: 'Block', Result: 'Permission denied',
      PolicyName: 'block-secrets', Severity: '5', Tags: 'MITRE,T1005', ATags: ['MITRE', 'T1005'],
      Message: 'no secrets', Enforcer: 'KawinMinifilter', EventData: { Access: 'READ_DATA' },
    },
  },
  {
    name: 'Audit by a rule → alert, Passed, Severity "" when 0',
    event: { decision: Decision.Audit, ruleId: 0x55n, status: NTSTATUS.success }, route: 'alert',
    expect: { ...COMMON, ...FILE, Type: 'MatchedHostPolicy', Action: 'Audit', Result: 'Passed', PolicyName: 'audit-logs', Severity: '', Tags: '', ATags: [] },
  },
  {
    name: 'PostureAudit → DefaultPosture alert, Audit, Passed',
    event: { decision: Decision.PostureAudit, ruleId: 0n, status: NTSTATUS.success }, route: 'alert',
    expect: { ...FILE, Type: 'MatchedHostPolicy', Action: 'Audit', Result: 'Passed', PolicyName: 'DefaultPosture', Severity: '', Tags: '', Message: '' },
  },
  {
    name: 'PostureBlock → DefaultPosture alert, Block, Permission denied',
    event: { decision: Decision.PostureBlock, ruleId: 0n }, route: 'alert',
    expect: { ...FILE, Type: 'MatchedHostPolicy', Action: 'Block', Result: 'Permission denied', PolicyName: 'DefaultPosture' },
  },
  {
    name: 'Allow match with allowAlerts → alert with Action Allow',
    event: { decision: Decision.Allow, ruleId: 0x77n, status: NTSTATUS.success }, options: { allowAlerts: true }, route: 'alert',
    expect: { Type: 'MatchedHostPolicy', Action: 'Allow', Result: 'Passed', PolicyName: 'allow-tools', Severity: '1', Tags: 'ops', Message: 'tools ok' },
  },
  {
    name: 'Allow match without allowAlerts but with telemetry → HostLog',
    event: { decision: Decision.Allow, ruleId: 0x77n, status: NTSTATUS.success }, route: 'log',
    expect: { ...COMMON, ...FILE, Type: 'HostLog', Result: 'Passed' },
  },
  {
    name: 'Allow match with neither → nothing',
    event: { decision: Decision.Allow, ruleId: 0x77n, status: NTSTATUS.success }, options: { hostTelemetry: false }, route: 'ignore',
  },
  {
    name: 'unmatched operation with telemetry → HostLog',
    event: { decision: Decision.Allow, ruleId: 0n, status: NTSTATUS.success, desiredAccess: 3 }, route: 'log',
    expect: { ...COMMON, ...FILE, Data: 'access=READ_DATA|WRITE_DATA', Type: 'HostLog', Result: 'Passed' },
  },
  {
    name: 'unmatched operation without telemetry → nothing',
    event: { decision: Decision.Allow, ruleId: 0n, status: NTSTATUS.success }, options: { hostTelemetry: false }, route: 'ignore',
  },
  {
    name: 'merged rule → named by origins[0] (highest severity)',
    event: { ruleId: 0x99n }, route: 'alert',
    expect: { PolicyName: 'zz-high', Severity: '9', Tags: 'pci', ATags: ['pci'], Message: 'from the highest', Action: 'Block' },
  },
  {
    name: 'rule without provenance → alert keeps the driver decision, no policy name',
    event: { ruleId: 0xdeadn, decision: Decision.Audit, status: NTSTATUS.success }, route: 'alert',
    expect: { PolicyName: '', Action: 'Audit', Result: 'Passed', Severity: '' },
  },
  {
    name: 'blocked process create → PID the creator that tried, its parent as PPID, Source the creator, args in Resource',
    event: {
      type: EventType.ProcessCreate, processId: 1000, parentProcessId: 700, newProcessId: 0, targetPath: 'C:\\Tools\\evil.exe',
      imagePath: 'C:\\Windows\\explorer.exe', parentImagePath: 'C:\\Windows\\System32\\userinit.exe',
      commandLine: '"C:\\Tools\\evil.exe" --steal  now', desiredAccess: 0,
    },
    route: 'alert',
    expect: {
      Operation: 'Process', ProcessName: 'C:\\Tools\\evil.exe', ParentProcessName: 'C:\\Windows\\System32\\userinit.exe',
      Source: 'C:\\Windows\\explorer.exe', Resource: 'C:\\Tools\\evil.exe --steal  now', Data: 'event=ProcessCreate',
      HostPID: 1000, PID: 1000, PPID: 700, HostPPID: 700, Action: 'Block', Result: 'Permission denied',
      Cwd: 'C:\\Users\\alice\\', EventData: { Event: 'ProcessCreate' },
    },
  },
  {
    name: 'process create without command line → Resource is the image',
    event: {
      type: EventType.ProcessCreate, decision: Decision.Audit, ruleId: 0x55n, status: NTSTATUS.success, processId: 900,
      newProcessId: 5000, targetPath: 'C:\\Tools\\a.exe', imagePath: 'C:\\Windows\\cmd.exe', commandLine: '',
    },
    route: 'alert',
    expect: {
      Resource: 'C:\\Tools\\a.exe', ProcessName: 'C:\\Tools\\a.exe', HostPID: 5000, PID: 5000, PPID: 900, HostPPID: 900,
      ParentProcessName: 'C:\\Windows\\cmd.exe', Source: 'C:\\Windows\\cmd.exe', Result: 'Passed',
    },
  },
  {
    name: 'account SID → UID from the RID, UserName the SID',
    event: { userSid: 'S-1-5-21-1004336348-1177238915-682003330-1001' }, route: 'alert',
    expect: { UID: 1001, UserName: 'S-1-5-21-1004336348-1177238915-682003330-1001' },
  },
  {
    name: 'telemetry per kind: file telemetry off, process on → an unmatched open is not reported',
    event: { decision: Decision.Allow, ruleId: 0n, status: NTSTATUS.success }, options: { hostTelemetry: { process: true, file: false } }, route: 'ignore',
  },
  {
    name: 'telemetry per kind: process on → an unmatched process start is a HostLog',
    event: { type: EventType.ProcessCreate, decision: Decision.Allow, ruleId: 0n, status: NTSTATUS.success, targetPath: 'C:\\Tools\\a.exe' },
    options: { hostTelemetry: { process: true, file: false } }, route: 'log',
    expect: { Type: 'HostLog', Operation: 'Process', ProcessName: 'C:\\Tools\\a.exe' },
  },
  {
    name: 'process exit with telemetry → HostLog, Operation Process',
    event: { type: EventType.ProcessExit, decision: Decision.Allow, ruleId: 0n, status: 0, targetPath: '' }, route: 'log',
    expect: { Type: 'HostLog', Operation: 'Process', ProcessName: NOTEPAD, Resource: NOTEPAD, Data: 'event=ProcessExit' },
  },
];

for (const c of CASES) {
  void test(`mapping: ${c.name}`, () => {
    const b = builder(c.options);
    const ev = hostEvent(c.event);
    const route = b.route(ev);
    assert.equal(route, c.route);
    if (!c.expect) return;
    const record = route === 'alert' ? b.alert(ev) : b.log(ev);
    const picked = Object.fromEntries(Object.keys(c.expect).map((k) => [k, (record as unknown as Record<string, unknown>)[k]]));
    assert.deepEqual(picked, c.expect);
    if (route === 'log') assert.equal('PolicyName' in record, false, 'a Log has no policy fields');
  });
}

void test('ParentProcessName comes from the pid table fed by process creates', () => {
  const b = builder();
  const create = hostEvent({
    type: EventType.ProcessCreate, decision: Decision.Allow, ruleId: 0n, status: 0, processId: 4, newProcessId: 4000,
    targetPath: 'C:\\Windows\\System32\\cmd.exe', imagePath: 'C:\\Windows\\explorer.exe', commandLine: 'cmd.exe /c type key.txt',
  });
  assert.equal(b.route(create), 'log');
  assert.equal(b.log(create).Resource, 'C:\\Windows\\System32\\cmd.exe /c type key.txt');
  // The driver did not name the parent's image: the table fills it in.
  const open = hostEvent({ processId: 5000, parentProcessId: 4000, parentImagePath: '' });
  b.route(open);
  assert.equal(b.alert(open).ParentProcessName, 'C:\\Windows\\System32\\cmd.exe');
  // An event without an image falls back to the table for the acting process too.
  const anonymous = hostEvent({ processId: 4000, parentProcessId: 4, imagePath: '' });
  b.route(anonymous);
  assert.equal(b.alert(anonymous).ProcessName, 'C:\\Windows\\System32\\cmd.exe');
  const exit = hostEvent({ type: EventType.ProcessExit, decision: Decision.Allow, ruleId: 0n, processId: 4000, imagePath: '', targetPath: '' });
  b.route(exit);
  assert.equal(b.log(exit).ProcessName, 'C:\\Windows\\System32\\cmd.exe');
  b.settle(exit);
  b.route(open);
  assert.equal(b.alert(open).ParentProcessName, '', 'an exited pid is forgotten');
});

void test('the pid table is bounded and counts evictions', () => {
  const b = builder({ processTableSize: 2 });
  for (const pid of [10, 20, 30]) {
    b.route(hostEvent({ type: EventType.ProcessCreate, newProcessId: pid, targetPath: `C:\\p${pid}.exe` }));
  }
  assert.equal(b.processes.images.size, 2);
  assert.equal(b.processes.images.evictions, 1);
  assert.equal(b.processes.image(10), '', 'the oldest went first');
  assert.equal(b.processes.image(30), 'C:\\p30.exe');
});

void test('a recompiled rule (new provenance object) is seen at once', () => {
  const prov = lookup([BLOCK_SECRETS]);
  const b = builder({ provenance: prov });
  assert.equal(b.alert(hostEvent()).PolicyName, 'block-secrets');
  prov.map.set(0x1234n, { ...BLOCK_SECRETS, origins: [{ ...BLOCK_SECRETS.origins[0]!, policy: 'renamed' }] });
  assert.equal(b.alert(hostEvent()).PolicyName, 'renamed');
});

void test('Result text from NTSTATUS', () => {
  assert.equal(resultText(NTSTATUS.success), 'Passed');
  assert.equal(resultText(NTSTATUS.accessDenied), 'Permission denied');
  assert.equal(resultText(0x00000103), 'Passed'); // STATUS_PENDING, informational
  assert.equal(resultText(0xc0000034), 'NTSTATUS 0xc0000034');
});

void test('command line arguments follow the program token', () => {
  assert.equal(commandLineArguments('"C:\\Program Files\\x.exe" -a "b c"'), '-a "b c"');
  assert.equal(commandLineArguments('cmd.exe /c dir'), '/c dir');
  assert.equal(commandLineArguments('  notepad.exe  '), '');
  assert.equal(commandLineArguments('"unterminated'), '');
  assert.equal(commandLineArguments(''), '');
});

void test('SID → UID and user name', () => {
  assert.deepEqual(identityFromSid('S-1-5-18'), { uid: 0, userName: 'NT AUTHORITY\\SYSTEM' });
  assert.deepEqual(identityFromSid('S-1-5-20'), { uid: 20, userName: 'NT AUTHORITY\\NETWORK SERVICE' });
  assert.deepEqual(identityFromSid(''), { uid: 0, userName: '' });
  assert.deepEqual(identityFromSid('S-1-5-21-1-2-3-4294967295'), { uid: 0, userName: 'S-1-5-21-1-2-3-4294967295' });
  assert.deepEqual(identityFromSid('S-1-5-32-544'), { uid: 0, userName: 'S-1-5-32-544' });
});

void test('access mask names', () => {
  assert.equal(accessText(0), 'access=0x0');
  assert.equal(accessText(0x10000 | 0x2), 'access=WRITE_DATA|DELETE');
  assert.equal(accessText(0x1 | 0x800), 'access=READ_DATA|0x800');
});

void test('NodeID: the machine id when given, else the node name; Severity omitted when the policy sets none', () => {
  const withId = builder({ nodeId: '4c4c4544-0042-3510-8052-b4c04f4d4e31' }).alert(hostEvent({ ruleId: 0x55n, decision: Decision.Audit }));
  assert.equal(withId.NodeID, '4c4c4544-0042-3510-8052-b4c04f4d4e31');
  assert.equal(withId.Severity, '');
  assert.equal(builder().log(hostEvent()).NodeID, 'win-node-1');
});

void test('EventData: what Data says as a map, the key capitalised as upstream does; shared and frozen', () => {
  const b = builder();
  const one = b.alert(hostEvent({ desiredAccess: 3 }));
  assert.deepEqual(one.EventData, { Access: 'READ_DATA|WRITE_DATA' });
  assert.equal(b.alert(hostEvent({ desiredAccess: 3 })).EventData, one.EventData, 'one map per Data text');
  assert.ok(Object.isFrozen(one.EventData));
  assert.deepEqual(b.alert(hostEvent()).EventData, { Access: 'READ_DATA' });
});
