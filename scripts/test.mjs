// Runs the whole test suite: the emulator's C tests under ASan/UBSan, then every
// *.test.ts through node:test and tsx. dist/ is rebuilt first, since the tests that
// spawn bin/kawin.js run the compiled build and must run the code under test. Node 20's --test does not expand globs, so the
// file list is built here. Extra arguments are passed to node (e.g. --test-only).
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { spawnSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const roots = ['controller', 'driver', 'test', 'proto', 'bench', 'scripts'];
const skip = new Set(['node_modules', 'build', 'gen', 'results']);

function walk(dir, out) {
  let names;
  try { names = readdirSync(dir); } catch { return out; }
  for (const name of names) {
    if (skip.has(name)) continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path, out);
    else if (name.endsWith('.test.ts')) out.push(relative(root, path));
  }
  return out;
}

const args = process.argv.slice(2);
const filter = args.filter((a) => !a.startsWith('-'));
const nodeArgs = args.filter((a) => a.startsWith('-'));
if (filter.length === 0) {
  // The real Go programs some tests run (kube-apiserver, karmor): built once per machine.
  const tools = spawnSync(process.execPath, ['test/tools/build.mjs'], { cwd: root, stdio: 'inherit' });
  if (tools.status !== 0) process.exit(tools.status ?? 1);
}
if (!process.env.KAWIN_SKIP_C_TESTS && filter.length === 0) {
  const c = spawnSync(process.execPath, ['driver/emulator/build.mjs', '--sanitize-test'], { cwd: root, stdio: 'inherit' });
  if (c.status !== 0) process.exit(c.status ?? 1);
}
const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: root, stdio: 'inherit' });
if (b.status !== 0) process.exit(b.status ?? 1);
let files = roots.flatMap((r) => walk(join(root, r), [])).sort();
if (filter.length) files = files.filter((f) => filter.some((p) => f.includes(p)));
if (files.length === 0) { console.error('no test files matched'); process.exit(1); }
// A test file that waits forever (a stream that never answers, a process that never
// exits) fails after TEST_TIMEOUT_MS with its name and its process is ended, instead of
// holding the run until CI's limit. Node 20 applies the timeout to each file as a whole
// (the longest, the wine MSI test, takes about a minute) and to each test in it.
const TEST_TIMEOUT_MS = 600_000;
const r = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=2', `--test-timeout=${TEST_TIMEOUT_MS}`, ...nodeArgs, ...files], {
  cwd: root, stdio: 'inherit', env: { ...process.env, UV_THREADPOOL_SIZE: process.env.UV_THREADPOOL_SIZE ?? '8' },
});
process.exit(r.status ?? 1);
