import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostPolicy, startHarness, type AgentHarness } from '../../test/agent-harness.js';
import { agentStatus, policyStatuses } from './status.js';

const block = (name: string, exe: string) => hostPolicy(name, `  process:
    matchPaths:
      - path: C:\\Windows\\System32\\${exe}
  action: Block
`);

async function metric(h: AgentHarness, series: string): Promise<number | undefined> {
  const text = await h.runtime!.agent.metrics.registry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.split(' ').pop());
}

async function settled(h: AgentHarness, check: () => boolean, what: string): Promise<void> {
  await h.eventually(check, what);
  await h.runtime!.agent.whenIdle();
}

void test('every rejected file shows in status, the log and a metric; deleting one stops counting it', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', block('block-cmd', 'cmd.exe'));
  h.writePolicy('syntax.yaml', `${block('s', 'a.exe')}  oops: [\n`);
  writeFileSync(join(h.policyDir, 'utf16.yaml'), Buffer.from(block('u', 'b.exe'), 'utf16le'));
  h.writePolicy('noversion.yaml', block('n', 'c.exe').replace(/^apiVersion.*\n/, ''));
  h.writePolicy('v2.yaml', block('v', 'd.exe').replace('security.kubearmor.com/v1', 'security.kubearmor.com/v2'));
  h.writePolicy('big.yaml', `${block('big', 'e.exe')}# ${'x'.repeat(3000)}\n`);
  h.writePolicy('schema.yaml', block('schema', 'f.exe').replace('action: Block', 'action: Explode'));
  const files = h.rawConfig().sources as { files: Record<string, unknown> };
  await h.start({ sources: { ...files, files: { ...files.files, maxFileBytes: 2048 } } });
  await h.until((r) => r.length === 1, 'the one valid policy');

  const status = agentStatus(h.runtime!.view);
  const rejected = Object.fromEntries(status.rejected.map((u) => [u.origin.slice(h.policyDir.length + 1), u.problems[0]!.message]));
  assert.deepEqual(Object.keys(rejected).sort(), ['big.yaml', 'noversion.yaml', 'syntax.yaml', 'utf16.yaml', 'v2.yaml']);
  assert.match(rejected['utf16.yaml']!, /UTF-16 text without a byte-order mark/);
  assert.match(rejected['noversion.yaml']!, /missing apiVersion/);
  assert.match(rejected['v2.yaml']!, /unsupported version "security.kubearmor.com\/v2"/);
  assert.match(rejected['big.yaml']!, /over the limit of 2048 bytes/);
  const logged = new Set(h.logger.records.filter((r) => r.msg.startsWith('policy unit rejected')).map((r) => String(r.origin).slice(h.policyDir.length + 1)));
  assert.deepEqual([...logged].sort(), Object.keys(rejected).sort());
  assert.equal(await metric(h, 'kawin_source_units_rejected{source="files"}'), 5);
  const schema = h.logger.records.find((r) => r.msg === 'policy rejected: nothing of it is in force' && r.policy === 'KubeArmorHostPolicy/schema');
  assert.match(String((schema?.problems as string[] | undefined)?.[0]), /spec\.action/, 'schema errors are logged too');

  h.deletePolicy('syntax.yaml');
  await settled(h, () => agentStatus(h.runtime!.view).rejected.length === 4, 'the deleted file to stop counting');
  assert.equal(await metric(h, 'kawin_source_units_rejected{source="files"}'), 4);
  assert.equal(agentStatus(h.runtime!.view).sources[0]!.units, 6, 'cmd.yaml, schema.yaml and four rejected files');
});

void test('two files naming one policy: both show the conflict; the one in force stays; neither silently wins', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('b-first.yaml', block('dup', 'cmd.exe'));
  await h.start();
  await h.until((r) => r.length === 1, 'the cmd.exe rule');
  h.writePolicy('a-second.yaml', block('dup', 'certutil.exe'));
  const agent = h.runtime!.view;
  await settled(h, () => agent.desired.conflicts().length === 1, 'the conflict');
  assert.deepEqual(h.paths((await h.probe.listRules()).rules), ['\\Device\\HarddiskVolume3\\Windows\\System32\\cmd.exe'], 'a-second.yaml sorts first, yet replaces nothing');
  const dup = policyStatuses(agent).filter((p) => p.name === 'dup').map((p) => [p.origin.slice(h.policyDir.length + 1), p.state, p.problems[0]?.message]);
  assert.deepEqual(dup, [
    ['b-first.yaml', 'last_known_good', `KubeArmorHostPolicy/dup is also defined in ${join(h.policyDir, 'a-second.yaml')}; a policy must be defined once (this one was in force before and stays until the conflict is resolved)`],
    ['a-second.yaml', 'invalid', `KubeArmorHostPolicy/dup is also defined in ${join(h.policyDir, 'b-first.yaml')}; a policy must be defined once (the one in force before (${join(h.policyDir, 'b-first.yaml')}) stays)`],
  ]);
  assert.ok(h.logger.records.some((r) => r.msg.startsWith('policy defined more than once') && r.policy === 'KubeArmorHostPolicy/dup'));
  assert.equal(await metric(h, 'kawin_policy_conflicts'), 1);
  assert.equal(agentStatus(agent).conflicts, 1);

  h.deletePolicy('b-first.yaml');
  await h.until((r) => r.length === 1 && r[0]!.target.path.endsWith('certutil.exe'), 'the remaining definition');
  assert.equal(await metric(h, 'kawin_policy_conflicts'), 0);
});

void test('a FIFO in the policy directory: later edits still apply, and SIGTERM ends the agent', async (t) => {
  const h = await startHarness(t);
  h.writePolicy('cmd.yaml', block('block-cmd', 'cmd.exe'));
  execFileSync('mkfifo', [join(h.policyDir, 'fifo.yaml')]);
  writeFileSync(h.configFile, JSON.stringify(h.rawConfig(), null, 2));
  const bin = fileURLToPath(new URL('../../bin/kawin.js', import.meta.url));
  const child = spawn(process.execPath, [bin, 'agent', '--config', h.configFile], { stdio: ['ignore', 'pipe', 'pipe'] });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : null))));
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  child.stderr.on('data', (d: Buffer) => { out += d.toString(); });
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', () => { if (out.includes('initial sync done')) resolve(); });
    void exited.then((code) => reject(new Error(`agent exited (${code}) before its first apply:\n${out}`)));
  });
  assert.equal((await h.probe.listRules()).rules.length, 1);
  assert.match(out, /fifo\.yaml is a fifo, not a regular file/);
  h.writePolicy('certutil.yaml', block('block-certutil', 'certutil.exe'));
  await h.until((r) => r.length === 2, 'the later edit');
  unlinkSync(join(h.policyDir, 'fifo.yaml'));
  child.kill('SIGTERM');
  assert.equal(await exited, 0, `SIGTERM ends the agent:\n${out}`);
});
