import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flavor } from '../../driver/abi/types.js';
import { encodeApplyRequest } from '../../driver/abi/index.js';
import { PolicyCompiler } from './index.js';
import { DRIVER_POLICY_LIMITS } from './limits.js';
import { checkPolicies } from './inputs.js';

const policy = (body: string) => `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: p
spec:
  nodeSelector: { matchLabels: {} }
${body}
  action: Block
`;

function check(text: string) {
  const compiler = new PolicyCompiler({ flavor: Flavor.Windows, environment: { ProgramFiles: `C:\\${'P'.repeat(200)}` } });
  const checked = checkPolicies([{ location: 'p.yaml', text }], compiler);
  return { checked, errors: checked.problems.filter((p) => p.severity === 'error').map((p) => `${p.code} ${p.path}: ${p.message}`) };
}

void test('a path with NUL is refused at validation, naming the field', () => {
  const { errors } = check(policy('  process:\n    matchPaths:\n      - path: "C:\\\\Windows\\\\cert\\0util.exe"'));
  assert.deepEqual(errors, ['path spec.process.matchPaths[0].path: the path contains a NUL character (U+0000) at character 16, which no file name can hold and the driver refuses']);
});

void test('a path longer than the driver holds is refused, as written or once expanded', () => {
  const max = DRIVER_POLICY_LIMITS.maxPathChars;
  const long = `C:\\${'a'.repeat(32_765)}`;
  const { errors } = check(policy(`  file:\n    matchPaths:\n      - path: ${long}\n      - path: C:\\${'b'.repeat(max - 3)}`));
  assert.deepEqual(errors, [`path spec.file.matchPaths[0].path: the path is 32768 characters long, over the driver's limit of ${max} (32,767 less room for the NT device name)`]);

  const expanded = check(policy(`  file:\n    matchPaths:\n      - path: '%ProgramFiles%\\${'c'.repeat(max - 20)}'`));
  assert.equal(expanded.errors.length, 1);
  assert.match(expanded.errors[0]!, new RegExp(`^path spec\\.file\\.matchPaths\\[0\\]\\.path: once expanded to C:\\\\PPP.*the path is ${max + 184} characters long`));
});

void test('a policy whose rules would not fit one APPLY is refused; one at the limit encodes', () => {
  // 17 paths of 24,000 characters × 45 fromSource entries (one list, aliased) of 24,000: 765 rules of ~96 kB.
  const long = (c: string, i: number) => `C:\\${String(i).padStart(2, '0')}${c.repeat(24_000)}`;
  const sources = Array.from({ length: 45 }, (_, i) => `        - path: ${long('s', i)}`).join('\n');
  const paths = Array.from({ length: 16 }, (_, i) => `      - path: ${long('t', i)}\n        fromSource: *src`).join('\n');
  const text = policy(`  process:\n    matchPaths:\n      - path: C:\\t.exe\n        fromSource: &src\n${sources}\n${paths}`);
  const { errors } = check(text);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /^limit\.driver spec: the policy's 765 rules take about \d+ bytes in the driver, over one APPLY's limit of 67108864 \(KAWIN_MAX_IOCTL_INPUT\)$/);

  const fits = check(text.replace(/fromSource: \*src\n/g, '\n').replace(/\n\n/g, '\n'));
  assert.deepEqual(fits.errors, []);
  const rules = [...fits.checked.translations.values()][0]!.rules;
  assert.ok(encodeApplyRequest(1n, [], rules).length < DRIVER_POLICY_LIMITS.maxRuleBytes);
});
