import { performance } from 'node:perf_hooks';
import { hash } from 'node:crypto';
import { loadAll, FAILSAFE_SCHEMA } from 'js-yaml-fast';
import { fastDocuments } from '../../controller/policy/fast-yaml.js';
import { needsEventParser, flowHazard } from '../../controller/policy/fast-scan.js';
import { POLICY_LIMITS } from '../../controller/policy/limits.js';
import { validatorFor } from '../../controller/policy/schema.js';
import { normalizeSpec } from '../../controller/policy/normalize.js';
import { parsePolicies } from '../../controller/policy/index.js';
const SPELLINGS = [(p: string) => `C:\\${p}`, (p: string) => `/C:/${p.replace(/\\/g, '/')}`, (p: string) => `'%SystemRoot%\\${p}'`];
function policyText(i: number, version = 0): string {
  const paths: string[] = []; const dirs: string[] = [];
  for (let r = 0; r < 90; r++) { const spell = SPELLINGS[r % 3]!; const extra = r % 5 === 0 ? `, readOnly: true, fromSource: [{path: 'C:\\Tools\\app${i}.exe'}]` : ''; paths.push(`      - {path: ${spell(`App${i}\\v${version}\\file${r}.dat`)}${extra}}`); }
  for (let r = 0; r < 5; r++) dirs.push(`      - {dir: 'C:\\Data${i}\\d${r}\\', recursive: ${r % 2 === 0}}`);
  const patterns = Array.from({ length: 5 }, (_, r) => `      - {pattern: 'C:\\Users\\*\\p${i}\\**\\*.x${r}'}`);
  return `apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata: {name: bench-${i}}\nspec:\n  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}\n  severity: ${1 + (i % 10)}\n  tags: [bench]\n  file:\n    matchPaths:\n${paths.join('\n')}\n    matchDirectories:\n${dirs.join('\n')}\n  process:\n    matchPatterns:\n${patterns.join('\n')}\n`;
}
const texts = Array.from({ length: 1000 }, (_, i) => policyText(i));
const t = (name: string, f: () => void) => { let best = 1e9; let bestCpu = 1e9; for (let k = 0; k < 7; k++) { const c0 = process.cpuUsage(); const t0 = performance.now(); f(); best = Math.min(best, performance.now() - t0); const c = process.cpuUsage(c0); bestCpu = Math.min(bestCpu, (c.user + c.system) / 1000); } console.log(name.padEnd(20), best.toFixed(1), 'ms wall', bestCpu.toFixed(1), 'ms cpu'); };
const values = texts.map((x) => fastDocuments(x, POLICY_LIMITS)![0]!.value as any);
t('needsEventParser', () => { for (const x of texts) needsEventParser(x); });
t('flowHazard', () => { for (const x of texts) flowHazard(x); });
t('y4 failsafe', () => { for (const x of texts) loadAll(x, null, { schema: FAILSAFE_SCHEMA }); });
t('fastDocuments', () => { for (const x of texts) fastDocuments(x, POLICY_LIMITS); });
t('ajv', () => { const v = validatorFor('KubeArmorHostPolicy'); for (const x of values) v(x); });
t('normalize', () => { for (const x of values) normalizeSpec('KubeArmorHostPolicy', x.spec); });
t('stringify', () => { for (const x of values) JSON.stringify(['k', '', x.metadata.name, x.spec]); });
t('digest', () => { for (const x of values) hash('sha256', JSON.stringify(['k', '', x.metadata.name, x.spec]), 'hex'); });
t('parsePolicies', () => { for (const x of texts) parsePolicies(x, 'x'); });
import { flowHazard2 } from './lex-scratch.js';
t('flowHazard2', () => { for (const x of texts) flowHazard2(x); });
t('flowHazard', () => { for (const x of texts) flowHazard(x); });
console.log(texts.filter(flowHazard2).length, texts.filter(flowHazard).length);
import { quickValidatorFor } from '../../controller/policy/schema.js';
t('ajv quick', () => { const v = quickValidatorFor('KubeArmorHostPolicy'); for (const x of values) v(x); });
t('ajv', () => { const v = validatorFor('KubeArmorHostPolicy'); for (const x of values) v(x); });
import { load as load5 } from 'js-yaml';

t('fastDocuments', () => { for (const x of texts) fastDocuments(x, POLICY_LIMITS); });
t('y4 failsafe', () => { for (const x of texts) loadAll(x, null, { schema: FAILSAFE_SCHEMA }); });
t('js-yaml 5 load', () => { for (const x of texts) load5(x); });
t('parsePolicies', () => { for (const x of texts) parsePolicies(x, 'x'); });
t('parsePolicies ev', () => { for (const x of texts) parsePolicies(x, 'x', { yamlParser: 'events' }); });
