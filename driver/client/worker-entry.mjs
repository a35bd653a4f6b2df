// Entry of kawin's worker threads; workerData.entry names the module (a sibling, without
// extension), or workerData.entryUrl gives it as a file URL without extension (a module
// elsewhere in the tree, e.g. controller/policy's prepare worker). Node 20 does not apply
// the parent's --import loaders to a worker's entry, so when running from TypeScript
// sources this registers tsx in the worker first; a compiled build imports the .js file.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';

const name = String(workerData?.entry ?? '');
const url = workerData?.entryUrl === undefined ? undefined : new URL(String(workerData.entryUrl));
if (url ? url.protocol !== 'file:' : !/^[\w.-]+$/.test(name)) throw new Error(`worker-entry: bad entry module '${url ?? name}'`);
const base = url ? url.href : new URL(`./${name}`, import.meta.url).href;
const source = new URL(`${base}.ts`);
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(`${base}.js`);
}
