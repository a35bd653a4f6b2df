// Compiles kawin's TypeScript into dist/: the CLI (which holds the agent) as ESM split into
// shared chunks, so that a command loads only what it uses; each worker thread's entry as
// one self-contained file; the schema validators as ajv standalone code
// (scripts/validators.mjs). Dependencies are bundled, except koffi, whose native binary is
// found beside its package at run time. Node runs dist/ with no TypeScript compiler.
import { build } from 'esbuild';
import { cpSync, rmSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generateValidators, VALIDATION_MODULE, VALIDATION_MODULE_BUNDLED } from './validators.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));

// The CLI (which holds the agent), split into shared chunks so that a command loads only
// what it uses.
const entryPoints = { kawin: 'controller/cli/entry.ts' };

// Worker-thread entries: one per `workerModule(dir, name)` in the sources. Each is one
// self-contained CommonJS file, dist/<name>.cjs: a thread then starts without Node's ESM
// loader (about 10 ms less per start, measured by bench:startup's worker figure) and
// loads one file; it shares no module state with the main thread anyway.
const workerEntryPoints = {
  'port-reader': 'driver/client/port-reader.ts',
  'ioctl-thread': 'driver/client/ioctl-thread.ts',
  'prepare-worker': 'controller/policy/prepare-worker.ts',
};

// Bundled CommonJS dependencies call require() for Node's built-ins; ESM output has none.
// kawinDistDir is dist/ (every chunk sits there), for the __dirname rewrite below.
const banner = [
  "import { createRequire as kawinCreateRequire } from 'node:module';",
  "import { fileURLToPath as kawinFileURLToPath } from 'node:url';",
  'const require = kawinCreateRequire(import.meta.url);',
  "const kawinDistDir = kawinFileURLToPath(new URL('.', import.meta.url));",
].join(' ');

// The same for the CommonJS worker files, where import.meta does not exist.
const cjsBanner = [
  '"use strict";', "const kawinDistDir = __dirname + require('node:path').sep;",
  "const kawinImportMetaUrl = require('node:url').pathToFileURL(__filename).href;",
].join(' ');

// Some dependencies load .proto files from `${__dirname}/../../proto` (@grpc/reflection
// and grpc-js's channelz when used). In the bundle
// __dirname would be dist/, so each such file gets its original folder under dist/
// instead, and the package's .proto files are copied there.
const protoUsers = new Set();
const dirnameRewrite = {
  name: 'dirname-rewrite',
  setup(b) {
    b.onLoad({ filter: /[\\/]node_modules[\\/].*\.js$/ }, async (args) => {
      const text = await readFile(args.path, 'utf8');
      if (!text.includes('__dirname')) return undefined;
      const rel = relative(root, dirname(args.path)).split(sep).join('/');
      const pkg = rel.match(/^node_modules\/((?:@[^/]+\/)?[^/]+)/)?.[1];
      if (pkg) protoUsers.add(pkg);
      return { contents: text.replaceAll('__dirname', `(kawinDistDir + ${JSON.stringify(rel)})`), loader: 'js' };
    });
  },
};

// The bundle's schema validators are generated at build time (scripts/validators.mjs).
const precompiledValidators = {
  name: 'precompiled-validators',
  setup(b) {
    const path = `${root}${VALIDATION_MODULE}`;
    b.onLoad({ filter: /[\\/]controller[\\/]validation[\\/]index\.ts$/ }, (args) => (
      args.path === path ? { contents: VALIDATION_MODULE_BUNDLED, loader: 'js' } : undefined
    ));
  },
};

function copyProtos(dist) {
  for (const pkg of protoUsers) {
    const from = `${root}node_modules/${pkg}`;
    const isProtoOrDir = (path) => path.endsWith('.proto') || (statSync(path).isDirectory() && !path.endsWith('node_modules'));
    cpSync(from, `${dist}/node_modules/${pkg}`, { recursive: true, filter: isProtoOrDir });
  }
}

/**
 * Builds into `outdir` (default dist/; the Windows bundle builds its own copy, so that
 * tests running dist/ never see it half-written). `extraEntries` adds entries beside the
 * shipped ones (a benchmark's harness that runs the agent as users do).
 */
export async function buildDist({ quiet = false, outdir = `${root}dist`, sourcemap = true, extraEntries = {} } = {}) {
  const dist = outdir;
  rmSync(dist, { recursive: true, force: true });
  const common = {
    absWorkingDir: root,
    outdir: dist,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    external: ['koffi'],
    define: { KAWIN_BUNDLE: 'true' },
    banner: { js: banner },
    plugins: [dirnameRewrite, precompiledValidators],
    sourcemap: sourcemap ? 'linked' : false,
    logLevel: quiet ? 'error' : 'warning',
    metafile: true,
  };
  const [result, workers] = await Promise.all([
    build({ ...common, entryPoints: { ...entryPoints, ...extraEntries }, splitting: true }),
    build({
      ...common, entryPoints: workerEntryPoints, format: 'cjs', outExtension: { '.js': '.cjs' },
      banner: { js: cjsBanner }, define: { ...common.define, 'import.meta.url': 'kawinImportMetaUrl' },
    }),
  ]);
  Object.assign(result.metafile.outputs, workers.metafile.outputs);
  Object.assign(result.metafile.inputs, workers.metafile.inputs);
  copyProtos(dist);
  await generateValidators(root, dist);
  return result;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const started = performance.now();
  const result = await buildDist();
  const files = Object.keys(result.metafile.outputs).filter((f) => /\.c?js$/.test(f)).length;
  console.log(`build: dist/ (${files} files) in ${Math.round(performance.now() - started)} ms`);
}
