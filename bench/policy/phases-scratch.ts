import { performance } from 'node:perf_hooks';
import { Flavor } from '../../driver/abi/types.js';
import { parsePolicies, PolicyCompiler, RuleSetBuilder, NodeRuleSet, type Policy } from '../../controller/policy/index.js';
import { translatePolicy } from '../../controller/policy/compiler.js';
import { withDefaults } from '../../controller/policy/environment.js';
const SPELLINGS = [(p: string) => `C:\\${p}`, (p: string) => `/C:/${p.replace(/\\/g, '/')}`, (p: string) => `'%SystemRoot%\\${p}'`];
function policyText(i: number, version = 0): string {
  const paths: string[] = []; const dirs: string[] = [];
  for (let r = 0; r < 90; r++) { const spell = SPELLINGS[r % 3]!; const extra = r % 5 === 0 ? `, readOnly: true, fromSource: [{path: 'C:\\Tools\\app${i}.exe'}]` : ''; paths.push(`      - {path: ${spell(`App${i}\\v${version}\\file${r}.dat`)}${extra}}`); }
  for (let r = 0; r < 5; r++) dirs.push(`      - {dir: 'C:\\Data${i}\\d${r}\\', recursive: ${r % 2 === 0}}`);
  const patterns = Array.from({ length: 5 }, (_, r) => `      - {pattern: 'C:\\Users\\*\\p${i}\\**\\*.x${r}'}`);
  return `apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata: {name: bench-${i}}\nspec:\n  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}\n  severity: ${1 + (i % 10)}\n  tags: [bench]\n  file:\n    matchPaths:\n${paths.join('\n')}\n    matchDirectories:\n${dirs.join('\n')}\n  process:\n    matchPatterns:\n${patterns.join('\n')}\n`;
}
const texts = Array.from({ length: 1000 }, (_, i) => policyText(i));
const t = (name: string, f: () => void) => { let best = 1e9; let bestCpu = 1e9; for (let k = 0; k < 5; k++) { const c0 = process.cpuUsage(); const t0 = performance.now(); f(); best = Math.min(best, performance.now() - t0); const c = process.cpuUsage(c0); bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000); } console.log(name.padEnd(20), best.toFixed(1), 'ms wall', bestCpu.toFixed(1), 'ms cpu'); };
let policies: Policy[] = [];
t('parse', () => { policies = texts.map((x) => parsePolicies(x, 'x').documents[0]!.policy!); });
t('parse events', () => { texts.map((x) => parsePolicies(x, 'x', { yamlParser: 'events' }).documents[0]!.policy!); });
const ctx = { flavor: Flavor.Windows, environment: new Map(Object.entries(withDefaults(undefined)).map(([k, v]) => [k.toUpperCase(), { name: k, value: v }])) };
let compiled: ReturnType<PolicyCompiler['compile']>[] = [];
t('translate', () => { for (const p of policies) translatePolicy(p, ctx); });
t('compile', () => { const c = new PolicyCompiler({ flavor: Flavor.Windows, nodeLabels: { 'kubernetes.io/os': 'windows' } }); compiled = policies.map((p) => c.compile(p)); });
t('merge', () => { const b = new RuleSetBuilder(); for (const c of compiled) b.set(c.key, c); });
t('NodeRuleSet', () => { const s = new NodeRuleSet({ flavor: Flavor.Windows, nodeLabels: { 'kubernetes.io/os': 'windows' } }); for (const p of policies) s.apply(p); });
