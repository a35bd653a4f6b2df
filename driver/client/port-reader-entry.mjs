// Entry of the port-reader worker. Node 20 does not apply the parent's --import loaders
// to a worker's entry module, so when running from TypeScript sources this registers
// tsx in the worker first; a compiled build imports the .js sibling directly.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const source = new URL('./port-reader.ts', import.meta.url);
if (existsSync(fileURLToPath(source))) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('./port-reader.js', import.meta.url).href);
}
