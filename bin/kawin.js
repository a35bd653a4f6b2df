#!/usr/bin/env node
// kawin's command-line entry: runs the compiled JavaScript in dist/ (`npm run build`, run
// by `npm install`). The threadpool must be sized before anything uses it: the agent's
// blocking driver reads live on a worker thread, but fs, DNS and crypto still share the
// pool, so give them room beyond the default 4.
process.env.UV_THREADPOOL_SIZE ??= '8';
let compiled;
try {
  compiled = await import('../dist/kawin.js');
} catch (error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('dist')) throw error;
  process.stderr.write("kawin: dist/ is missing: run 'npm run build' (or 'npm install') in the kawin folder\n");
  process.exit(1);
}
const { main, processFatal, EXIT_GRACE_MS } = compiled;
// Any error nothing handled ends the process (after a bounded shutdown), never leaving it half-alive.
processFatal.install();
process.exitCode = await main(process.argv.slice(2));
// The command is done: whatever it left open must not keep the process alive.
setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
