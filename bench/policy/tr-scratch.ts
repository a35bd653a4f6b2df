import { Flavor } from '../../driver/abi/types.js';
import { parsePolicies, type Policy } from '../../controller/policy/index.js';
import { translatePolicy } from '../../controller/policy/compiler.js';
import { withDefaults } from '../../controller/policy/environment.js';
import { readFileSync } from 'node:fs';
void readFileSync;
const SPELLINGS = [(p: string) => `C:\\${p}`, (p: string) => `/C:/${p.replace(/\\/g, '/')}`, (p: string) => `'%SystemRoot%\\${p}'`];
function policyText(i: number, version = 0): string {
  const paths: string[] = []; const dirs: string[] = [];
  for (let r = 0; r < 90; r++) { const spell = SPELLINGS[r % 3]!; const extra = r % 5 === 0 ? `, readOnly: true, fromSource: [{path: 'C:\\Tools\\app${i}.exe'}]` : ''; paths.push(`      - {path: ${spell(`App${i}\\v${version}\\file${r}.dat`)}${extra}}`); }
  for (let r = 0; r < 5; r++) dirs.push(`      - {dir: 'C:\\Data${i}\\d${r}\\', recursive: ${r % 2 === 0}}`);
  const patterns = Array.from({ length: 5 }, (_, r) => `      - {pattern: 'C:\\Users\\*\\p${i}\\**\\*.x${r}'}`);
  return `apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata: {name: bench-${i}}\nspec:\n  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}\n  severity: ${1 + (i % 10)}\n  tags: [bench]\n  file:\n    matchPaths:\n${paths.join('\n')}\n    matchDirectories:\n${dirs.join('\n')}\n  process:\n    matchPatterns:\n${patterns.join('\n')}\n`;
}
const policies: Policy[] = Array.from({ length: 1000 }, (_, i) => parsePolicies(policyText(i), 'x').documents[0]!.policy!);
const ctx = { flavor: Flavor.Windows, environment: new Map(Object.entries(withDefaults(undefined)).map(([k, v]) => [k.toUpperCase(), { name: k, value: v }])) };
for (let k = 0; k < 8; k++) { const c0 = process.cpuUsage(); for (const p of policies) translatePolicy(p, ctx); const c = process.cpuUsage(c0); console.log('translate cpu', ((c.user + c.system) / 1000).toFixed(1)); }
