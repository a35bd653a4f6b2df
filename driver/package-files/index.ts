/**
 * Where kawin's shipped files are (proto/, crds/, the config schema, the emulator build,
 * the worker threads' entry modules), whether it runs from its TypeScript sources or from
 * the compiled bundle in dist/. The build (scripts/build.mjs) defines KAWIN_BUNDLE; every
 * bundled chunk sits directly in dist/, one level below the package root, while this
 * source file sits two levels below it.
 */
declare const KAWIN_BUNDLE: boolean | undefined;

/** True when running the compiled bundle (dist/), false from the TypeScript sources. */
export const BUNDLED = typeof KAWIN_BUNDLE !== 'undefined' && KAWIN_BUNDLE;

/** The package root: the folder holding package.json, proto/, crds/ and dist/. */
export const PACKAGE_ROOT = new URL(BUNDLED ? '../' : '../../', import.meta.url);

/** A file shipped with kawin, by its path from the package root (e.g. `proto/`). */
export function packageFile(relative: string): URL {
  return new URL(relative, PACKAGE_ROOT);
}

/**
 * How to start the worker thread whose entry module is `<dir>/<name>.ts`: from sources,
 * through `<dir>/worker-entry.mjs` (which registers tsx in the thread first); from the
 * bundle, the compiled `dist/<name>.js` itself.
 */
export function workerModule(dir: string, name: string): { url: URL; entry: string } {
  const url = BUNDLED ? packageFile(`dist/${name}.js`) : packageFile(`${dir}/worker-entry.mjs`);
  return { url, entry: name };
}
