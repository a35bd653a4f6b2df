// The compiled build, as a user runs it: bin/kawin.js on dist/ (built by scripts/test.mjs,
// as by `npm install`), with no TypeScript compiler loaded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BIN = join(ROOT, 'bin', 'kawin.js');

function kawin(...args: string[]) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', cwd: ROOT, env: { ...process.env, NODE_OPTIONS: '' } });
}

void test('compiled: kawin --help lists every command', () => {
  const r = kawin('--help');
  assert.equal(r.status, 0, r.stderr);
  for (const name of ['agent', 'validate', 'status', 'policy', 'logs']) assert.match(r.stdout, new RegExp(`^  ${name} `, 'm'));
});

void test('compiled: kawin validate accepts the examples and reports a bad field with file and line', () => {
  const good = kawin('validate', 'examples/policies');
  assert.equal(good.status, 0, good.stderr + good.stdout);
  assert.match(good.stdout, /3 valid policies, 0 error\(s\)/);
  const dir = mkdtempSync(join(tmpdir(), 'kawin-compiled-'));
  const file = join(dir, 'bad.yaml');
  const text = readFileSync(join(ROOT, 'examples/policies/block-certutil.yaml'), 'utf8').replace('action: Block', 'action: Blok');
  writeFileSync(file, text);
  const bad = kawin('validate', file);
  assert.equal(bad.status, 1, bad.stderr + bad.stdout);
  const line = text.split('\n').findIndex((l) => l.includes('Blok')) + 1;
  assert.match(bad.stdout + bad.stderr, new RegExp(`bad\\.yaml:${line}:`));
});

void test('compiled: dist/ holds JavaScript only and never loads tsx', () => {
  const files = readdirSync(join(ROOT, 'dist')).filter((f) => /\.c?js$/.test(f));
  assert.ok(files.includes('kawin.js'), files.join(' '));
  for (const f of files) assert.doesNotMatch(readFileSync(join(ROOT, 'dist', f), 'utf8'), /from\s*["']tsx|import\(["']tsx|require\(["']tsx/, f);
});

/** Every `workerModule('dir', 'name')` of the product sources. */
function workerEntries(dir: string, out: string[] = []): string[] {
  for (const name of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, name.name);
    if (name.isDirectory() && name.name !== 'node_modules') workerEntries(path, out);
    else if (/(?<!\.test)\.ts$/.test(name.name)) {
      for (const m of readFileSync(path, 'utf8').matchAll(/workerModule\('([\w/]+)', '([\w-]+)'\)/g)) out.push(`${m[1]}/${m[2]}`);
    }
  }
  return out;
}

void test('compiled: every worker thread the sources start is built, as one file that needs no other of dist/', () => {
  const entries = [...workerEntries(join(ROOT, 'controller')), ...workerEntries(join(ROOT, 'driver'))];
  assert.deepEqual(entries.map((e) => e.split('/').pop()).sort(), ['ioctl-thread', 'port-reader', 'prepare-worker']);
  for (const entry of entries) {
    const name = entry.split('/').pop()!;
    const text = readFileSync(join(ROOT, 'dist', `${name}.cjs`), 'utf8');
    assert.doesNotMatch(text, /require\(["']\.\/chunk-|from ["']\.\/chunk-/, `${name}.cjs loads a shared chunk`);
  }
});
