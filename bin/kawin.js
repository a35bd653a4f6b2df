#!/usr/bin/env node
// kawin's command-line entry. The threadpool must be sized before anything uses it:
// the agent's blocking driver reads live on a worker thread, but fs, DNS and crypto still
// share the pool, so give them room beyond the default 4.
process.env.UV_THREADPOOL_SIZE ??= '8';
const { register } = await import('tsx/esm/api');
register();
// Any error nothing handled ends the process (after a bounded shutdown), never leaving it half-alive.
const { processFatal, EXIT_GRACE_MS } = await import('../controller/cli/fatal.ts');
processFatal.install();
const { main } = await import('../controller/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// The command is done: whatever it left open must not keep the process alive.
setTimeout(() => process.exit(), EXIT_GRACE_MS).unref();
