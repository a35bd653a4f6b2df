/** The policy texts of bench:policy: host policies of 100 rules, file and process rules in every form, spellings mixed. */
export const RULES_PER_POLICY = 100;

const SPELLINGS = [(p: string) => `C:\\${p}`, (p: string) => `/C:/${p.replace(/\\/g, '/')}`, (p: string) => `'%SystemRoot%\\${p}'`];

/** One policy text: process and file rules in every form, spellings mixed. */
export function policyText(i: number, version = 0): string {
  const paths: string[] = [];
  const dirs: string[] = [];
  for (let r = 0; r < RULES_PER_POLICY - 10; r++) {
    const spell = SPELLINGS[r % 3]!;
    const extra = r % 5 === 0 ? `, readOnly: true, fromSource: [{path: 'C:\\Tools\\app${i}.exe'}]` : '';
    paths.push(`      - {path: ${spell(`App${i}\\v${version}\\file${r}.dat`)}${extra}}`);
  }
  for (let r = 0; r < 5; r++) dirs.push(`      - {dir: 'C:\\Data${i}\\d${r}\\', recursive: ${r % 2 === 0}}`);
  const patterns = Array.from({ length: 5 }, (_, r) => `      - {pattern: 'C:\\Users\\*\\p${i}\\**\\*.x${r}'}`);
  return `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: bench-${i}}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  severity: ${1 + (i % 10)}
  tags: [bench]
  file:
    matchPaths:
${paths.join('\n')}
    matchDirectories:
${dirs.join('\n')}
  process:
    matchPatterns:
${patterns.join('\n')}
`;
}
