// Builds the Go programs the tests run for real (kube-apiserver, karmor, …) from their Go
// modules, one folder per tool under test/tools/<tool>/ holding go.mod, go.sum and
// tool.json ({"binaries": {"<name>": "<go package>"}}). Output goes to
// ~/.cache/kawin/tools/<tool>-<key>/ (or $KAWIN_TOOLS_CACHE), outside the clone so that
// every checkout on the machine reuses it; the key hashes go.mod, go.sum, tool.json and the Go
// version, so a build is reused until one of them changes.
//
//   node test/tools/build.mjs            build every tool that is missing
//   node test/tools/build.mjs karmor     build one
//   node test/tools/build.mjs --print karmor   print its output folder (build if missing)
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { execFileSync, spawnSync } from 'node:child_process';

const here = new URL('.', import.meta.url).pathname;
export const CACHE_DIR = process.env.KAWIN_TOOLS_CACHE ?? join(homedir(), '.cache', 'kawin', 'tools');

function goVersion() {
  return execFileSync('go', ['env', 'GOVERSION'], { encoding: 'utf8' }).trim();
}

export function toolKey(tool) {
  const dir = join(here, tool);
  const hash = createHash('sha256');
  for (const f of ['go.mod', 'go.sum', 'tool.json']) hash.update(existsSync(join(dir, f)) ? readFileSync(join(dir, f)) : '');
  hash.update(goVersion());
  return hash.digest('hex').slice(0, 16);
}

export function toolDir(tool) {
  return join(CACHE_DIR, `${tool}-${toolKey(tool)}`);
}

export function buildTool(tool, log = console.error) {
  const out = toolDir(tool);
  if (existsSync(join(out, '.complete'))) return out;
  const spec = JSON.parse(readFileSync(join(here, tool, 'tool.json'), 'utf8'));
  const tmp = `${out}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  const started = Date.now();
  for (const [name, pkg] of Object.entries(spec.binaries)) {
    log(`building ${name} (${pkg}) for the tests: the first build downloads and compiles its modules`);
    const r = spawnSync('go', ['build', '-trimpath', '-o', join(tmp, name), pkg], {
      cwd: join(here, tool), stdio: 'inherit', env: { ...process.env, CGO_ENABLED: spec.cgo ? '1' : '0' },
    });
    if (r.status !== 0) throw new Error(`go build of ${pkg} failed (exit ${r.status})`);
  }
  writeFileSync(join(tmp, '.complete'), `${new Date().toISOString()} ${Date.now() - started} ms\n`);
  rmSync(out, { recursive: true, force: true });
  renameSync(tmp, out);
  log(`built ${tool} in ${((Date.now() - started) / 1000).toFixed(0)} s → ${out}`);
  return out;
}

export function allTools() {
  return readdirSync(here, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(here, d.name, 'tool.json')))
    .map((d) => d.name);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const print = args.includes('--print');
  const tools = args.filter((a) => !a.startsWith('--'));
  for (const tool of tools.length ? tools : allTools()) {
    const out = buildTool(tool);
    if (print) console.log(out);
  }
}
