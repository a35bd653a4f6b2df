import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { command as validate } from './validate.js';
import { command as compile } from './compile.js';
import { hostPolicyText } from '../../../test/fixtures/policies/make-policy.js';
import type { CliIO } from '../types.js';

const fixtures = new URL('../../../test/fixtures/policies/', import.meta.url).pathname;

async function run(cmd: typeof validate, argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const io: CliIO = { stdout: (t) => out.push(t), stderr: (t) => err.push(t), isTTY: false };
  const code = await cmd.run(argv, io);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

void test('validate: exit 0 for valid policies (warnings allowed), with a summary', async () => {
  const r = await run(validate, [join(fixtures, 'valid')]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /host-every-field\.yaml:19:9: warning: spec\.process\.matchPaths\[0\]\.ownerOnly: ownerOnly is not enforced/);
  assert.match(r.out, /^valid: 9 file\(s\), .* 0 error\(s\)/m);
});

void test('validate: exit 1 and compiler-style errors for invalid policies', async () => {
  const r = await run(validate, [join(fixtures, 'invalid', 'schema-errors.yaml')]);
  assert.equal(r.code, 1);
  assert.match(r.out, /schema-errors\.yaml:10:5: error: spec\.process\.matchPath: unknown field "matchPath"; did you mean "matchPaths"\?/);
});

void test('validate --flavor posix and --output json', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-validate-'));
  writeFileSync(join(dir, 'linux.yaml'), hostPolicyText('linux', '  process: {matchPaths: [{path: /usr/bin/sleep}]}'));
  assert.equal((await run(validate, [dir])).code, 1, 'a Linux path is invalid for a Windows node');
  const r = await run(validate, [dir, '--flavor', 'posix', '--output', 'json']);
  assert.equal(r.code, 0);
  const json = JSON.parse(r.out) as { valid: boolean; policies: string[] };
  assert.deepEqual([json.valid, json.policies], [true, ['KubeArmorHostPolicy/linux']]);
});

void test('validate: exit 2 on usage errors', async () => {
  assert.equal((await run(validate, [])).code, 2);
  assert.equal((await run(validate, ['x.yaml', '--flavor', 'beos'])).code, 2);
  assert.equal((await run(validate, ['--nope', 'x.yaml'])).code, 2);
  const missing = await run(validate, [join(fixtures, 'does-not-exist.yaml')]);
  assert.equal(missing.code, 2);
  assert.match(missing.err, /no such file/);
});

void test('compile prints the rules with their ids, selected by --node-labels', async () => {
  const file = join(fixtures, 'valid', 'host-selection.yaml');
  const all = await run(compile, [file]);
  assert.equal(all.code, 0, all.err);
  assert.match(all.out, /^0x[0-9a-f]{16} Block File Exact C:\\a\.txt {2}<- hostname-star$/m);
  assert.match(all.out, /^4 rule\(s\) from 4 policies$/m, 'the Linux-only policy is left out');
  const selected = await run(compile, [file, '--node-labels', 'kubearmor.io/hostname=win-node-1,kubernetes.io/os=windows', '--output', 'json']);
  const json = JSON.parse(selected.out) as { rules: { id: string; target: { path: string } }[]; policies: { key: string; enforced: boolean }[] };
  assert.deepEqual(json.rules.map((r) => r.target.path).sort(), ['C:\\a.txt', 'C:\\b.txt', 'C:\\d.txt']);
  assert.match(json.rules[0]!.id, /^0x[0-9a-f]{16}$/);
  assert.equal((await run(compile, [file, '--node-labels', 'novalue'])).code, 2);
  assert.equal((await run(compile, [join(fixtures, 'invalid', 'path-errors.yaml')])).code, 1);
});
