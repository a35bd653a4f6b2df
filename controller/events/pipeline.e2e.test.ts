// End to end on the emulator: rules in the emulated driver, operations "on the machine",
// the driver's events through DriverClient.events() and the pipeline into KubeArmor alerts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { Decision, MatchType, Posture, RuleAction, RuleKind, type DriverRule } from '../../driver/abi/types.js';
import { startEmulator } from '../../test/emulator.js';
import type { RuleProvenance } from '../policy/provenance.js';
import { EventPipeline } from './pipeline.js';
import { CollectingSink, lookup } from './test-fixtures.js';

const NOTEPAD = 'C:\\Windows\\System32\\notepad.exe';

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 5));
}

void test('a blocked file open and a blocked process start reach the sink as KubeArmor alerts with DOS paths', async (t) => {
  const emu = await startEmulator(t, { flavor: 'windows', drives: { 'C:': '\\Device\\HarddiskVolume3' } });
  const driver = await emu.client();
  const rule = (id: bigint, kind: RuleKind, action: RuleAction, path: string): DriverRule =>
    ({ id, kind, action, flags: 0, target: { path: driver.paths.toDriver(path), match: MatchType.Exact } });
  await driver.addRules([
    rule(0xb10c4n, RuleKind.File, RuleAction.Block, 'C:\\secret\\key.txt'),
    rule(0xa0d17n, RuleKind.File, RuleAction.Audit, 'C:\\logs\\app.log'),
    rule(0xe4e1n, RuleKind.Process, RuleAction.Block, 'C:\\Tools\\evil.exe'),
  ]);
  const provenance: RuleProvenance[] = [
    { ruleId: 0xb10c4n, action: 'Block', origins: [{ kind: 'KubeArmorHostPolicy', policy: 'block-secrets', severity: 5, tags: ['MITRE', 'T1005'], message: 'secret read' }] },
    { ruleId: 0xa0d17n, action: 'Audit', origins: [{ kind: 'KubeArmorHostPolicy', policy: 'audit-logs', severity: 2, tags: [], message: '' }] },
    { ruleId: 0xe4e1n, action: 'Block', origins: [{ kind: 'KubeArmorHostPolicy', policy: 'no-evil', severity: 9, tags: ['malware'], message: 'evil' }] },
  ];
  const sink = new CollectingSink();
  const pipeline = new EventPipeline({
    hostName: 'win-node-1', clusterName: 'prod', provenance: lookup(provenance), nodeId: 'machine-1',
    hostTelemetry: false, allowAlerts: false, sinks: [sink], registry: new Registry(),
  });
  const ac = new AbortController();
  const running = pipeline.run(driver.events({ signal: ac.signal }), ac.signal);

  // The machine's processes, as the driver tracks them: every process field of an alert comes from here.
  emu.machine.defineProcess({ pid: 700, image: 'C:\\Windows\\System32\\userinit.exe', sessionId: 1 });
  emu.machine.defineProcess({
    pid: 1000, parentPid: 700, sessionId: 1, image: 'C:\\Windows\\explorer.exe', userSid: 'S-1-5-21-1-2-3-1001', currentDirectory: 'C:\\Users\\alice\\',
  });
  emu.machine.defineProcess({
    pid: 4321, parentPid: 1000, sessionId: 1, image: NOTEPAD, userSid: 'S-1-5-21-1-2-3-1001', currentDirectory: 'C:\\Users\\alice\\Documents\\',
  });
  const blocked = emu.machine.simulateFileOpen('C:\\secret\\key.txt', { process: NOTEPAD, pid: 4321 });
  assert.equal(blocked.decision, Decision.Block);
  emu.machine.simulateFileOpen('C:\\logs\\app.log', { process: NOTEPAD, pid: 4321, write: true });
  emu.machine.simulateFileOpen('C:\\other\\fine.txt', { process: NOTEPAD, pid: 4321 }); // unmatched: not reported
  const exec = emu.machine.simulateProcessCreate('C:\\Tools\\evil.exe', { parent: 'C:\\Windows\\explorer.exe', parentPid: 1000, commandLine: '"C:\\Tools\\evil.exe" --steal' });
  assert.equal(exec.decision, Decision.Block);
  await until(() => sink.alerts.length === 3);

  const [file, audit, proc] = sink.alerts;
  assert.deepEqual({
    Type: file!.Type, PolicyName: file!.PolicyName, Severity: file!.Severity, Tags: file!.Tags, Message: file!.Message,
    Action: file!.Action, Result: file!.Result, Operation: file!.Operation, Source: file!.Source, ProcessName: file!.ProcessName,
    Resource: file!.Resource, PID: file!.PID, HostPID: file!.HostPID, PPID: file!.PPID, HostPPID: file!.HostPPID,
    ParentProcessName: file!.ParentProcessName, Cwd: file!.Cwd, UID: file!.UID, UserName: file!.UserName,
    HostName: file!.HostName, NodeID: file!.NodeID, Data: file!.Data, EventData: file!.EventData, Enforcer: file!.Enforcer,
  }, {
    Type: 'MatchedHostPolicy', PolicyName: 'block-secrets', Severity: '5', Tags: 'MITRE,T1005', Message: 'secret read',
    Action: 'Block', Result: 'Permission denied', Operation: 'File', Source: NOTEPAD, ProcessName: NOTEPAD,
    Resource: 'C:\\secret\\key.txt', PID: 4321, HostPID: 4321, PPID: 1000, HostPPID: 1000,
    ParentProcessName: 'C:\\Windows\\explorer.exe', Cwd: 'C:\\Users\\alice\\Documents\\', UID: 1001, UserName: 'S-1-5-21-1-2-3-1001',
    HostName: 'win-node-1', NodeID: 'machine-1', Data: 'access=READ_DATA', EventData: { Access: 'READ_DATA' }, Enforcer: 'KawinMinifilter',
  });
  assert.match(file!.UpdatedTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  assert.ok(Math.abs(file!.Timestamp - Date.now() / 1000) < 60, 'Timestamp is Unix seconds of the event');
  assert.deepEqual([audit!.PolicyName, audit!.Action, audit!.Result, audit!.Data], ['audit-logs', 'Audit', 'Passed', 'access=WRITE_DATA']);
  assert.deepEqual({
    Operation: proc!.Operation, ProcessName: proc!.ProcessName, ParentProcessName: proc!.ParentProcessName, Source: proc!.Source,
    Resource: proc!.Resource, PolicyName: proc!.PolicyName, Action: proc!.Action, Result: proc!.Result,
    PID: proc!.PID, HostPID: proc!.HostPID, PPID: proc!.PPID, HostPPID: proc!.HostPPID, Cwd: proc!.Cwd, UID: proc!.UID,
  }, {
    // Blocked: no new process exists; the process that tried (explorer) is PID, its parent PPID.
    Operation: 'Process', ProcessName: 'C:\\Tools\\evil.exe', ParentProcessName: 'C:\\Windows\\System32\\userinit.exe',
    Source: 'C:\\Windows\\explorer.exe', Resource: 'C:\\Tools\\evil.exe --steal', PolicyName: 'no-evil', Action: 'Block',
    Result: 'Permission denied', PID: 1000, HostPID: 1000, PPID: 700, HostPPID: 700, Cwd: 'C:\\Users\\alice\\', UID: 1001,
  });

  ac.abort();
  await running;
  assert.deepEqual(pipeline.stats().dropped, { driver: 0, pipeline: 0 });
});

void test('outside an active allow-list the default posture is reported as DefaultPosture', async (t) => {
  const emu = await startEmulator(t, { flavor: 'windows', drives: { 'C:': '\\Device\\HarddiskVolume3' } });
  const driver = await emu.client();
  const state = await driver.getState();
  await driver.setConfig({ ...state.config, filePosture: Posture.Block });
  await driver.addRules([{
    id: 0xa11een, kind: RuleKind.File, action: RuleAction.Allow, flags: 0,
    target: { path: driver.paths.toDriver('C:\\allowed\\'), match: MatchType.Recursive },
  }]);
  const sink = new CollectingSink();
  const pipeline = new EventPipeline({
    hostName: 'win-node-1', clusterName: 'prod', provenance: lookup([]),
    hostTelemetry: false, allowAlerts: false, sinks: [sink], registry: new Registry(),
  });
  const ac = new AbortController();
  const running = pipeline.run(driver.events({ signal: ac.signal }), ac.signal);
  assert.equal(emu.machine.simulateFileOpen('C:\\allowed\\ok.txt', { process: NOTEPAD }).decision, Decision.Allow);
  assert.equal(emu.machine.simulateFileOpen('C:\\elsewhere\\x.txt', { process: NOTEPAD }).decision, Decision.PostureBlock);
  await until(() => sink.alerts.length === 1);
  const a = sink.alerts[0]!;
  assert.deepEqual([a.PolicyName, a.Action, a.Result, a.Resource, a.Type], ['DefaultPosture', 'Block', 'Permission denied', 'C:\\elsewhere\\x.txt', 'MatchedHostPolicy']);
  ac.abort();
  await running;
});
