// Builds the native emulator: build/kawin-driverd (the emulated kernel) and
// build/libkawin_emu.so (the Win32 shim + KawinEmu_* exports). With --sanitize-test it
// also builds both plus the C tests under ASan/UBSan into build/asan/ and runs the tests.
// Skips a target whose output is newer than every source and header it depends on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';

const here = new URL('.', import.meta.url).pathname;
const src = join(here, 'src');
const out = join(here, 'build');
const cc = process.env.CC || 'cc';

const cfiles = (dir) => readdirSync(join(src, dir)).filter((f) => f.endsWith('.c')).map((f) => join(src, dir, f));
const headers = [
  ...['common', 'kernel', 'shim'].flatMap((d) => readdirSync(join(src, d)).filter((f) => f.endsWith('.h')).map((f) => join(src, d, f))),
  join(here, 'include', 'kawin_emu.h'),
  join(here, '..', 'abi', 'kawin_abi.h'),
];
const base = ['-O2', '-g', '-std=gnu11', '-Wall', '-Wextra', '-Werror', '-pthread', '-D_GNU_SOURCE'];
const sanitize = ['-fsanitize=address,undefined', '-fno-omit-frame-pointer', '-fno-sanitize-recover=all'];

function haveCompiler() {
  const r = spawnSync(cc, ['--version'], { encoding: 'utf8' });
  return r.status === 0;
}

function newest(files) {
  return Math.max(...files.map((f) => statSync(f).mtimeMs), statSync(new URL(import.meta.url).pathname).mtimeMs);
}

function build(output, sources, flags) {
  const deps = [...sources, ...headers];
  if (existsSync(output) && statSync(output).mtimeMs > newest(deps)) return;
  // Build beside the output and rename: a running daemon keeps its old inode, and two
  // concurrent builds never leave a half-written file.
  const tmp = `${output}.tmp-${process.pid}`;
  const args = [...flags, '-o', tmp, ...sources];
  console.log(`emulator: ${cc} -o ${output}`);
  const r = spawnSync(cc, args, { stdio: 'inherit' });
  if (r.status !== 0) {
    rmSync(tmp, { force: true });
    console.error(`emulator: building ${output} failed (${cc} exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
  renameSync(tmp, output);
}

function targets(dir, extra) {
  mkdirSync(dir, { recursive: true });
  const common = cfiles('common');
  build(join(dir, 'kawin-driverd'), [...cfiles('kernel'), ...common], [...base, ...extra]);
  build(join(dir, 'libkawin_emu.so'), [...cfiles('shim'), ...common],
    [...base, ...extra, '-fPIC', '-shared', '-fvisibility=hidden']);
}

// `npm install` passes --if-possible: the emulator is for Linux development and tests;
// anywhere else (Windows, macOS, a CI runner without a C compiler) the install goes on
// without it, so `kawin validate` still works, and says why it was skipped.
const ifPossible = process.argv.includes('--if-possible');
function cannotBuild(reason, hint) {
  console.error(`emulator: ${reason}\n${hint}`);
  if (ifPossible) {
    console.error('emulator: not built; everything but the emulated driver works (kawin validate, compile, the agent with driver.kind windows).');
    process.exit(0);
  }
  process.exit(1);
}

if (process.platform !== 'linux') {
  cannotBuild(`the driver emulator builds only on Linux (this is ${process.platform})`, 'On Windows the agent talks to the real kawin driver.');
}
if (!haveCompiler()) {
  cannotBuild(`no C compiler found (tried '${cc}'; set CC to choose one).`, 'Install one, e.g. on Debian/Ubuntu: apt-get install gcc libc6-dev');
}

targets(out, []);
if (process.argv.includes('--sanitize-test')) {
  const asan = join(out, 'asan');
  targets(asan, sanitize);
  const testBin = join(asan, 'emu-test');
  const testSources = readdirSync(join(here, 'test')).filter((f) => f.endsWith('.c')).map((f) => join(here, 'test', f));
  const testHeaders = readdirSync(join(here, 'test')).filter((f) => f.endsWith('.h')).map((f) => join(here, 'test', f));
  headers.push(...testHeaders);
  build(testBin, [...testSources, ...cfiles('shim'), ...cfiles('common')], [...base, ...sanitize]);
  const r = spawnSync(testBin, [join(asan, 'kawin-driverd')], {
    stdio: 'inherit',
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' },
  });
  if (r.status !== 0) {
    console.error(`emulator: C tests failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}
