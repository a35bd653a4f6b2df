// Every decision rule of driver-abi.md, as a table: rules written through DriverClient
// (the real binding), operations simulated on the emulated machine, decisions compared.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEmulator, type EmulatorFixtureOptions } from '../../test/emulator.js';
import {
  ACCESS, Decision, MatchType, NTSTATUS, Posture, RULE_FLAG_READ_ONLY, RuleAction, RuleKind,
  type DriverConfig, type DriverRule,
} from '../abi/types.js';

interface RuleSpec {
  id: number;
  action: RuleAction;
  match: MatchType;
  path: string;
  kind?: RuleKind;
  readOnly?: boolean;
  source?: [MatchType, string];
}
interface Row {
  name: string;
  rules: RuleSpec[];
  posture?: Posture;
  /** A file open (default) or a process creation (`exec`). */
  op: { path: string; process?: string; write?: boolean; exec?: boolean };
  expect: Decision;
  /** Deciding rule id; 0 for none / default posture. */
  ruleId: number;
}

const { Allow, Audit, Block } = RuleAction;
const { Exact, Directory, Recursive, Glob } = MatchType;
const APP = 'C:\\Program Files\\app\\app.exe';
const SHELL = 'C:\\Windows\\System32\\cmd.exe';

const windowsRows: Row[] = [
  { name: 'exact path blocks', rules: [{ id: 1, action: Block, match: Exact, path: 'C:\\secret.txt' }], op: { path: 'C:\\secret.txt' }, expect: Decision.Block, ruleId: 1 },
  { name: 'exact path does not cover a sibling', rules: [{ id: 1, action: Block, match: Exact, path: 'C:\\secret.txt' }], op: { path: 'C:\\secret.txt.bak' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'directory covers a file directly in it', rules: [{ id: 2, action: Block, match: Directory, path: 'C:\\data\\' }], op: { path: 'C:\\data\\a.txt' }, expect: Decision.Block, ruleId: 2 },
  { name: 'directory does not cover a subdirectory', rules: [{ id: 2, action: Block, match: Directory, path: 'C:\\data\\' }], op: { path: 'C:\\data\\sub\\a.txt' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'recursive covers everything below', rules: [{ id: 3, action: Audit, match: Recursive, path: 'C:\\data\\' }], op: { path: 'C:\\data\\sub\\deep\\a.txt' }, expect: Decision.Audit, ruleId: 3 },
  { name: 'recursive does not cover a prefix-named sibling', rules: [{ id: 3, action: Audit, match: Recursive, path: 'C:\\data\\' }], op: { path: 'C:\\database\\a.txt' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'glob * within one segment', rules: [{ id: 4, action: Block, match: Glob, path: 'C:\\logs\\*.log' }], op: { path: 'C:\\logs\\app.log' }, expect: Decision.Block, ruleId: 4 },
  { name: 'glob * does not cross a separator', rules: [{ id: 4, action: Block, match: Glob, path: 'C:\\logs\\*.log' }], op: { path: 'C:\\logs\\old\\app.log' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'glob ** crosses segments', rules: [{ id: 5, action: Block, match: Glob, path: 'C:\\logs\\**\\*.log' }], op: { path: 'C:\\logs\\a\\b\\app.log' }, expect: Decision.Block, ruleId: 5 },
  { name: 'glob ? is one character', rules: [{ id: 6, action: Block, match: Glob, path: 'C:\\f?.txt' }], op: { path: 'C:\\f1.txt' }, expect: Decision.Block, ruleId: 6 },
  { name: 'glob ? is not two characters', rules: [{ id: 6, action: Block, match: Glob, path: 'C:\\f?.txt' }], op: { path: 'C:\\f12.txt' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'readOnly Block lets reads pass', rules: [{ id: 7, action: Block, match: Exact, path: 'C:\\cfg.ini', readOnly: true }], op: { path: 'C:\\cfg.ini' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'readOnly Block blocks writes', rules: [{ id: 7, action: Block, match: Exact, path: 'C:\\cfg.ini', readOnly: true }], op: { path: 'C:\\cfg.ini', write: true }, expect: Decision.Block, ruleId: 7 },
  { name: 'readOnly Audit lets reads pass unreported', rules: [{ id: 8, action: Audit, match: Exact, path: 'C:\\cfg.ini', readOnly: true }], op: { path: 'C:\\cfg.ini' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'readOnly Audit audits writes', rules: [{ id: 8, action: Audit, match: Exact, path: 'C:\\cfg.ini', readOnly: true }], op: { path: 'C:\\cfg.ini', write: true }, expect: Decision.Audit, ruleId: 8 },
  { name: 'readOnly Allow allows reads', rules: [{ id: 9, action: Allow, match: Exact, path: 'C:\\cfg.ini', readOnly: true }], op: { path: 'C:\\cfg.ini' }, expect: Decision.Allow, ruleId: 9 },
  { name: 'readOnly Allow does not cover a write (posture)', rules: [{ id: 9, action: Allow, match: Exact, path: 'C:\\cfg.ini', readOnly: true }], op: { path: 'C:\\cfg.ini', write: true }, expect: Decision.PostureAudit, ruleId: 0 },
  { name: 'fromSource applies to that process', rules: [{ id: 10, action: Block, match: Recursive, path: 'C:\\data\\', source: [Exact, SHELL] }], op: { path: 'C:\\data\\a.txt', process: SHELL }, expect: Decision.Block, ruleId: 10 },
  { name: 'fromSource does not apply to another process', rules: [{ id: 10, action: Block, match: Recursive, path: 'C:\\data\\', source: [Exact, SHELL] }], op: { path: 'C:\\data\\a.txt', process: APP }, expect: Decision.Allow, ruleId: 0 },
  { name: 'fromSource with a glob source', rules: [{ id: 11, action: Block, match: Exact, path: 'C:\\x.txt', source: [Glob, 'C:\\Windows\\**\\*.exe'] }], op: { path: 'C:\\x.txt', process: SHELL }, expect: Decision.Block, ruleId: 11 },
  { name: 'per-source allow-list: outside it, that source gets the posture', rules: [{ id: 12, action: Allow, match: Recursive, path: 'C:\\data\\', source: [Exact, APP] }], op: { path: 'C:\\other\\a.txt', process: APP }, expect: Decision.PostureAudit, ruleId: 0 },
  { name: 'per-source allow-list: other processes pass', rules: [{ id: 12, action: Allow, match: Recursive, path: 'C:\\data\\', source: [Exact, APP] }], op: { path: 'C:\\other\\a.txt', process: SHELL }, expect: Decision.Allow, ruleId: 0 },
  { name: 'per-source allow-list: inside it, allowed by the rule', rules: [{ id: 12, action: Allow, match: Recursive, path: 'C:\\data\\', source: [Exact, APP] }], op: { path: 'C:\\data\\a.txt', process: APP }, expect: Decision.Allow, ruleId: 12 },
  {
    name: 'Block beats Audit and Allow',
    rules: [{ id: 20, action: Allow, match: Recursive, path: 'C:\\data\\' }, { id: 21, action: Audit, match: Directory, path: 'C:\\data\\' }, { id: 22, action: Block, match: Exact, path: 'C:\\data\\a.txt' }],
    op: { path: 'C:\\data\\a.txt' }, expect: Decision.Block, ruleId: 22,
  },
  {
    name: 'Audit beats Allow',
    rules: [{ id: 20, action: Allow, match: Recursive, path: 'C:\\data\\' }, { id: 21, action: Audit, match: Glob, path: 'C:\\data\\*.txt' }],
    op: { path: 'C:\\data\\a.txt' }, expect: Decision.Audit, ruleId: 21,
  },
  { name: 'global allow-list, audit posture', rules: [{ id: 30, action: Allow, match: Recursive, path: 'C:\\ok\\' }], posture: Posture.Audit, op: { path: 'C:\\other.txt' }, expect: Decision.PostureAudit, ruleId: 0 },
  { name: 'global allow-list, block posture', rules: [{ id: 30, action: Allow, match: Recursive, path: 'C:\\ok\\' }], posture: Posture.Block, op: { path: 'C:\\other.txt' }, expect: Decision.PostureBlock, ruleId: 0 },
  { name: 'no allow-list: unmatched passes', rules: [{ id: 31, action: Block, match: Exact, path: 'C:\\b.txt' }], posture: Posture.Block, op: { path: 'C:\\other.txt' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'an allow-list of another kind does not apply', rules: [{ id: 32, action: Allow, match: Exact, path: 'C:\\ok.exe', kind: RuleKind.Process }], posture: Posture.Block, op: { path: 'C:\\other.txt' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'windows matching is case-insensitive', rules: [{ id: 40, action: Block, match: Exact, path: 'C:\\Secret\\File.TXT' }], op: { path: 'c:\\SECRET\\file.txt' }, expect: Decision.Block, ruleId: 40 },
  { name: 'case-insensitive directories and globs', rules: [{ id: 41, action: Block, match: Glob, path: 'C:\\Logs\\*.LOG' }], op: { path: 'C:\\LOGS\\a.log' }, expect: Decision.Block, ruleId: 41 },
  { name: 'process rule blocks an execution', rules: [{ id: 50, action: Block, match: Exact, path: 'C:\\tools\\bad.exe', kind: RuleKind.Process }], op: { path: 'C:\\tools\\bad.exe', exec: true }, expect: Decision.Block, ruleId: 50 },
  { name: 'process allow-list, block posture', rules: [{ id: 51, action: Allow, match: Recursive, path: 'C:\\Windows\\', kind: RuleKind.Process }], posture: Posture.Block, op: { path: 'C:\\tools\\x.exe', exec: true }, expect: Decision.PostureBlock, ruleId: 0 },
  { name: 'a process rule does not decide file opens', rules: [{ id: 52, action: Block, match: Exact, path: 'C:\\tools\\bad.exe', kind: RuleKind.Process }], op: { path: 'C:\\tools\\bad.exe' }, expect: Decision.Allow, ruleId: 0 },
];

const posixRows: Row[] = [
  { name: 'exact path blocks', rules: [{ id: 1, action: Block, match: Exact, path: '/etc/shadow' }], op: { path: '/etc/shadow', process: '/bin/cat' }, expect: Decision.Block, ruleId: 1 },
  { name: 'posix matching is case-sensitive', rules: [{ id: 1, action: Block, match: Exact, path: '/etc/shadow' }], op: { path: '/etc/SHADOW', process: '/bin/cat' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'recursive with /', rules: [{ id: 2, action: Audit, match: Recursive, path: '/var/log/' }], op: { path: '/var/log/nginx/access.log', process: '/bin/cat' }, expect: Decision.Audit, ruleId: 2 },
  { name: 'directory with /', rules: [{ id: 3, action: Block, match: Directory, path: '/tmp/' }], op: { path: '/tmp/x/y', process: '/bin/cat' }, expect: Decision.Allow, ruleId: 0 },
  { name: 'glob ** with /', rules: [{ id: 4, action: Block, match: Glob, path: '/home/**/.ssh/*' }], op: { path: '/home/u/.ssh/id_rsa', process: '/bin/cat' }, expect: Decision.Block, ruleId: 4 },
  { name: 'a backslash is an ordinary character', rules: [{ id: 5, action: Block, match: Directory, path: '/data/' }], op: { path: '/data/a\\b', process: '/bin/cat' }, expect: Decision.Block, ruleId: 5 },
  { name: 'fromSource with posix paths', rules: [{ id: 6, action: Block, match: Exact, path: '/etc/passwd', source: [Exact, '/usr/bin/curl'] }], op: { path: '/etc/passwd', process: '/usr/bin/curl' }, expect: Decision.Block, ruleId: 6 },
];

const config = (filePosture: Posture, processPosture: Posture): DriverConfig => ({
  caseFold: false, eventMask: 0, processPosture, filePosture, networkPosture: Posture.Audit, registryPosture: Posture.Audit,
});

function runTable(flavor: 'windows' | 'posix', rows: Row[]): void {
  const options: EmulatorFixtureOptions = flavor === 'windows'
    ? { flavor, drives: { 'C:': '\\Device\\HarddiskVolume3' } } : { flavor };
  for (const row of rows) {
    void it(row.name, async (t) => {
      const emu = await startEmulator(t, options);
      const client = await emu.client();
      const toRule = (r: RuleSpec): DriverRule => ({
        id: BigInt(r.id), kind: r.kind ?? RuleKind.File, action: r.action, flags: r.readOnly ? RULE_FLAG_READ_ONLY : 0,
        target: { path: client.paths.toDriver(r.path), match: r.match },
        ...(r.source ? { source: { match: r.source[0], path: client.paths.toDriver(r.source[1]) } } : {}),
      });
      if (row.posture) await client.setConfig({ ...config(row.posture, row.posture), caseFold: flavor === 'windows' });
      await client.apply({ expectedGeneration: 0n, remove: [], add: row.rules.map(toRule) });
      const process = row.op.process ?? APP;
      const got = row.op.exec
        ? emu.machine.simulateProcessCreate(row.op.path, { parent: process })
        : emu.machine.simulateFileOpen(row.op.path, { process, access: row.op.write ? ACCESS.writeData : ACCESS.readData });
      assert.deepEqual({ decision: Decision[got.decision], ruleId: got.ruleId }, { decision: Decision[row.expect], ruleId: BigInt(row.ruleId) });
      const blocked = row.expect === Decision.Block || row.expect === Decision.PostureBlock;
      assert.equal(got.status, blocked ? NTSTATUS.accessDenied : NTSTATUS.success);
    });
  }
}

void describe('decisions, windows flavour (NT paths, case-insensitive, \\)', () => runTable('windows', windowsRows));
void describe('decisions, posix flavour (/, case-sensitive)', () => runTable('posix', posixRows));
