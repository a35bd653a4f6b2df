// The service host's status sequence, against a recording stand-in for advapi32 (the real
// SCM path runs under wine in test/wine/msi.test.ts; a failing agent's exit code and the
// checkpoints are checked here, where they can be provoked).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../clock/index.js';
import type { AdvapiBinding, ServiceStatus } from './binding.js';
import { enterServiceDispatcher } from './host.js';

interface Scm {
  advapi: AdvapiBinding;
  statuses: ServiceStatus[];
  control(code: number): number;
  endDispatcher(): void;
}

function fakeScm(startedBySCM: boolean): Scm {
  const statuses: ServiceStatus[] = [];
  let handler: ((control: number) => number) | undefined;
  let endDispatcher = (): void => undefined;
  const advapi = {
    runDispatcher: (_name: string, serviceMain: () => void) => new Promise<boolean>((resolve) => {
      if (!startedBySCM) return resolve(false);
      endDispatcher = () => resolve(true);
      setImmediate(serviceMain);
    }),
    registerHandler: (_name: string, h: (control: number) => number) => {
      handler = h;
      return { value: 1n, error: 0 as const };
    },
    setServiceStatus: (_h: bigint, status: ServiceStatus) => {
      statuses.push({ ...status });
      if (status.dwCurrentState === 1) setImmediate(endDispatcher);
      return 0;
    },
  } as unknown as AdvapiBinding;
  return { advapi, statuses, control: (code) => handler!(code), endDispatcher: () => endDispatcher() };
}

const states = (s: ServiceStatus[]) => s.map((x) => x.dwCurrentState);

void test('not started by the SCM: no session, the agent runs as a console program', async () => {
  assert.equal(await enterServiceDispatcher(fakeScm(false).advapi, new FakeClock()), null);
});

void test('START_PENDING with checkpoints, RUNNING, a stop request, STOP_PENDING, STOPPED with exit 0', async () => {
  const scm = fakeScm(true);
  const clock = new FakeClock();
  const session = (await enterServiceDispatcher(scm.advapi, clock))!;
  assert.deepEqual(states(scm.statuses), [2]);
  clock.advance(4_000);
  assert.deepEqual(scm.statuses.map((s) => s.dwCheckPoint), [1, 2, 3], 'the SCM sees progress while starting');
  session.running();
  assert.equal(scm.statuses.at(-1)!.dwControlsAccepted, 0x5, 'accepts stop and shutdown once running');
  assert.equal(scm.control(4), 0, 'interrogate');
  assert.equal(scm.control(10), 120, 'other controls: not implemented');
  assert.equal(scm.control(5), 0, 'the handler returns at once');
  assert.equal(await session.stopRequested, 'shutdown');
  await session.stopped(0);
  assert.deepEqual(states(scm.statuses), [2, 2, 2, 4, 3, 1]);
  assert.deepEqual([scm.statuses.at(-1)!.dwWin32ExitCode, scm.statuses.at(-1)!.dwServiceSpecificExitCode], [0, 0]);
});

void test('an agent that fails reports STOPPED with ERROR_SERVICE_SPECIFIC_ERROR and its exit code', async () => {
  const scm = fakeScm(true);
  const session = (await enterServiceDispatcher(scm.advapi, new FakeClock()))!;
  session.stopping();
  await session.stopped(1);
  const last = scm.statuses.at(-1)!;
  assert.deepEqual([last.dwCurrentState, last.dwWin32ExitCode, last.dwServiceSpecificExitCode], [1, 1066, 1]);
});
