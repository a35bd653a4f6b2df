// What each command of the compiled build loads before it runs: the static imports of its
// chunk, followed through dist/ (esbuild marks each bundled file with a `// path` comment).
// What a command does not use stays out: a dynamic import() is loaded only when reached.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const DIST = fileURLToPath(new URL('../../dist/', import.meta.url));

/** Every file under dist/ that `file` loads through static imports (itself included). */
function staticClosure(file: string, seen = new Set<string>()): Set<string> {
  if (seen.has(file)) return seen;
  seen.add(file);
  const text = readFileSync(join(DIST, file), 'utf8');
  for (const m of text.matchAll(/^(?:import|export)\s[^;]*?["']\.\/([\w.-]+\.js)["']/gms)) staticClosure(m[1]!, seen);
  return seen;
}

/** The bundled source paths (node_modules packages and kawin's folders) a command's chunk loads. */
function loadedSources(command: string): string {
  const chunk = readdirSync(DIST).find((f) => f.startsWith(`${command}-`) && f.endsWith('.js'));
  assert.ok(chunk, `no chunk for ${command}`);
  return [...staticClosure(chunk)].map((f) => [...readFileSync(join(DIST, f), 'utf8').matchAll(/^\/\/ (\S+)$/gm)].map((m) => m[1]).join('\n')).join('\n');
}

void test('compiled: the agent loads the Kubernetes client only when the crd source is enabled', () => {
  const agent = loadedSources('agent');
  assert.match(agent, /^controller\/sources\/crd\/kind\.ts$/m);
  assert.doesNotMatch(agent, /@kubernetes\/client-node|controller\/sources\/crd\/source\.ts/);
  assert.doesNotMatch(agent, /node_modules\/ajv\//, 'schema validators are generated at build time');
});

void test('compiled: kawin validate loads neither gRPC nor ajv', () => {
  const validate = loadedSources('validate');
  assert.match(validate, /^controller\/policy\/parse\.ts$/m);
  assert.doesNotMatch(validate, /@grpc\/|node_modules\/ajv\/|prom-client|winston/);
});

void test('compiled: kawin status loads the gRPC client, not the server, YAML or metrics', () => {
  const status = loadedSources('status');
  assert.match(status, /@grpc\/grpc-js/);
  assert.doesNotMatch(status, /@grpc\/reflection|grpc-health-check|controller\/grpc\/server\.ts|js-yaml|prom-client/);
});
