import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../clock/index.js';
import { FATAL_EXIT_CODE, FatalHandler } from './fatal.js';

function handler() {
  const reports: string[] = [];
  let exit: (code: number) => void = () => {};
  const exited = new Promise<number>((resolve) => { exit = resolve; });
  const clock = new FakeClock();
  const fatal = new FatalHandler({ report: (t) => reports.push(t), exit: (code) => exit(code), clock });
  return { fatal, reports, exited, clock };
}

void test('a fatal error runs the shutdown hooks, then exits non-zero', async () => {
  const { fatal, reports, exited } = handler();
  const seen: string[] = [];
  fatal.onFatal(async (error) => { seen.push(error.message); });
  fatal.handle(new Error('boom'), 'uncaughtException');
  assert.equal(await exited, FATAL_EXIT_CODE);
  assert.deepEqual(seen, ['boom']);
  assert.match(reports[0]!, /fatal uncaught exception: Error: boom/);
});

void test('a shutdown hook that hangs cannot keep the process alive', async () => {
  const { fatal, reports, exited, clock } = handler();
  fatal.setShutdownTimeout(10_000);
  fatal.onFatal(() => new Promise(() => {}));
  let exitCode: number | undefined;
  void exited.then((code) => (exitCode = code));
  fatal.handle('not an Error', 'unhandledRejection');
  await clock.waitForTimers(1);
  await clock.advanceAsync(9_999);
  assert.equal(exitCode, undefined, 'the hook gets the whole bound');
  await clock.advanceAsync(1);
  assert.equal(await exited, FATAL_EXIT_CODE);
  assert.match(reports.join('\n'), /fatal unhandled rejection: .*\n.*shutdown did not finish within 10000 ms/s);
});

void test('a second fatal error during the shutdown exits at once', async () => {
  const { fatal, exited } = handler();
  fatal.onFatal(() => new Promise(() => {}));
  fatal.handle(new Error('first'), 'uncaughtException');
  fatal.handle(new Error('second'), 'uncaughtException');
  assert.equal(await exited, FATAL_EXIT_CODE);
});
