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
 * through driver/client/worker-entry.mjs (which registers tsx in the thread first); from
 * the bundle, the compiled `dist/<name>.cjs` itself (scripts/build.mjs lists each entry).
 * Pass `workerData` on to the Worker with the thread's own data.
 */
export function workerModule(dir: string, name: string): { url: URL; workerData: { entryUrl?: string } } {
  if (BUNDLED) return { url: packageFile(`dist/${name}.cjs`), workerData: {} };
  return { url: packageFile('driver/client/worker-entry.mjs'), workerData: { entryUrl: packageFile(`${dir}/${name}`).href } };
}
