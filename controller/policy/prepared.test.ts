import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Flavor } from '../../driver/abi/types.js';
import { PolicyCompiler, parsePolicies } from './index.js';
import { hydrate, prepareText } from './prepared.js';
import { translateFor } from './compiler.js';

const text = `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: two}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  process:
    matchPaths: [{path: 'C:\\\\Tools\\\\a.exe'}, {path: 'C:\\\\Tools\\\\b.exe', fromSource: [{path: 'C:\\\\x.exe'}]}]
  action: Block
---
apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata: {name: three}
spec:
  nodeSelector: {matchLabels: {kubernetes.io/os: windows}}
  file:
    matchDirectories: [{dir: 'C:\\\\Data\\\\', recursive: true}]
  action: Audit
`;

void test('a prepared text carries no entries; a hydrated policy reads them from its text on first use, as parsing gives them', () => {
  const compiler = new PolicyCompiler({ flavor: Flavor.Windows });
  const prepared = prepareText(text, 'two.yaml', translateFor(compiler.translation));
  for (const doc of prepared.documents) assert.equal('rules' in doc.policy!, false, 'entries are not copied across threads or into the cache');
  const { result } = hydrate(text, prepared);
  const parsed = parsePolicies(text, 'two.yaml');
  const copy = { ...result.documents[1]!.policy! };
  assert.equal('rules' in copy, false, 'copying a policy does not parse it');
  result.documents.forEach((doc, i) => assert.deepEqual(doc.policy!.rules, parsed.documents[i]!.policy!.rules));
  // A translation for another context is made from those entries.
  compiler.configure({ environment: { SystemDrive: 'D:' } });
  assert.deepEqual(compiler.translate(result.documents[0]!.policy!), compiler.translate(parsed.documents[0]!.policy!));
});
