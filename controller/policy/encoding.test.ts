import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Flavor } from '../../driver/abi/types.js';
import { decodePolicyText, PolicyCompiler } from './index.js';
import { checkPolicies, readPolicyInputs } from './inputs.js';

const POLICY = `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: ps
spec:
  nodeSelector: { matchLabels: {} }
  process:
    matchPaths:
      - path: C:\\café\\x.exe
  action: Block
`;

void test('UTF-8 (BOM or not) and UTF-16 with a BOM (PowerShell 5.1) decode to the same text', () => {
  const forms = [
    Buffer.from(POLICY, 'utf8'),
    Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(POLICY, 'utf8')]),
    Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(POLICY, 'utf16le')]),
    Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(POLICY, 'utf16le').swap16()]),
  ];
  for (const bytes of forms) assert.equal(decodePolicyText(bytes, 'f.yaml'), POLICY);
});

void test('bytes that are not text are refused with the offending byte, never replaced', () => {
  const cases: [Buffer, RegExp][] = [
    [Buffer.from([0x61, 0x62, 0xe9, 0x63]), /invalid UTF-8 at byte 2/],
    [Buffer.from([0x61, 0xc0, 0xaf]), /invalid UTF-8 at byte 1/], // overlong '/'
    [Buffer.from([0x61, 0xed, 0xa0, 0x80]), /invalid UTF-8 at byte 1/], // a UTF-8-encoded surrogate
    [Buffer.from([0x61, 0x62, 0xe2, 0x82]), /invalid UTF-8 at byte 2/], // truncated
    [Buffer.from([0xef, 0xbb, 0xbf, 0x61, 0xff]), /invalid UTF-8 at byte 4/],
    [Buffer.from('kind: x', 'utf16le'), /UTF-16 text without a byte-order mark at byte 1/],
    [Buffer.from([0xff, 0xfe, 0x61, 0x00, 0x00, 0xd8, 0x62, 0x00]), /unpaired surrogate in UTF-16LE text at byte 4/],
    [Buffer.from([0xff, 0xfe, 0x61]), /odd number of bytes/],
  ];
  for (const [bytes, expected] of cases) assert.throws(() => decodePolicyText(bytes, 'f.yaml'), expected, bytes.toString('hex'));
});

void test('kawin validate reads files as the agent does', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-enc-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'ps.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(POLICY, 'utf16le')]));
  const latin1 = POLICY.replace('name: ps', 'name: latin');
  writeFileSync(join(dir, 'latin1.yaml'), Buffer.from(latin1, 'latin1'));
  const checked = checkPolicies(await readPolicyInputs([dir]), new PolicyCompiler({ flavor: Flavor.Windows }));
  assert.deepEqual(checked.policies.map((p) => p.key), ['KubeArmorHostPolicy/ps']);
  assert.deepEqual(checked.problems.map((p) => [p.code, p.message]), [['encoding', `invalid UTF-8 at byte ${latin1.indexOf('é')}; save the file as UTF-8 (or UTF-16 with a byte-order mark)`]]);
});
