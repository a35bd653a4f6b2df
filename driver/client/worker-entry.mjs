// Entry of kawin's worker threads; workerData.entry names the module (a sibling, without
// extension). Node 20 does not apply the parent's --import loaders to a worker's entry,
// so when running from TypeScript sources this registers tsx in the worker first; a
// compiled build imports the .js sibling directly.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { workerData } from 'node:worker_threads';

const name = String(workerData?.entry ?? '');
if (!/^[\w.-]+$/.test(name)) throw new Error(`worker-entry: bad entry module name '${name}'`);
const source = new URL(`./${name}.ts`, import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL(`./${name}.js`, import.meta.url).href);
}
