import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FakeClock } from '../clock/index.js';
import { MemoryLogger } from '../observability/index.js';
import { Manager } from './manager.js';
import type { Runnable } from './runnable.js';

function recorder(log: string[], name: string, extra: Partial<Runnable> = {}): Runnable {
  return {
    name,
    start: async () => { log.push(`start ${name}`); },
    stop: async () => { log.push(`stop ${name}`); },
    ...extra,
  };
}

function manager(clock = new FakeClock(), logger = new MemoryLogger()): Manager {
  return new Manager({ logger, clock, stopDeadlineMs: 1000 });
}

void test('parts start in the order added and stop in reverse', async () => {
  const log: string[] = [];
  const m = manager();
  for (const name of ['sources', 'controller', 'server']) await m.add(recorder(log, name));
  await m.start();
  await m.stop();
  assert.deepEqual(log, ['start sources', 'start controller', 'start server', 'stop server', 'stop controller', 'stop sources']);
});

void test('a part added after start is started at once and stopped with the rest', async () => {
  const log: string[] = [];
  const m = manager();
  await m.add(recorder(log, 'a'));
  await m.start();
  assert.equal(m.readiness().ok, true);
  await m.add(recorder(log, 'late'));
  assert.deepEqual(log, ['start a', 'start late']);
  assert.equal(m.readiness().checks.find((c) => c.name === 'late')?.ok, true);
  await m.stop();
  assert.deepEqual(log.slice(2), ['stop late', 'stop a']);
});

void test('readiness is the conjunction of the parts, with each reason', async () => {
  const m = manager();
  let synced = false;
  await m.add(recorder([], 'driver'));
  await m.add(recorder([], 'files', { ready: () => (synced ? { ok: true } : { ok: false, reason: 'not in sync' }) }));
  assert.deepEqual(m.readiness().checks.map((c) => [c.name, c.ok]), [['driver', false], ['files', false]]);
  await m.start();
  assert.deepEqual(m.readiness(), { ok: false, checks: [{ name: 'driver', ok: true }, { name: 'files', ok: false, reason: 'not in sync' }] });
  synced = true;
  assert.equal(m.readiness().ok, true);
});

void test('a failed start names the part; stop then stops only what started', async () => {
  const log: string[] = [];
  const m = manager();
  await m.add(recorder(log, 'a'));
  await m.add(recorder(log, 'broken', { start: async () => { throw new Error('port in use'); } }));
  await m.add(recorder(log, 'c'));
  await assert.rejects(m.start(), /broken failed to start: port in use/);
  await m.stop();
  assert.deepEqual(log, ['start a', 'stop a']);
});

void test('a part that does not stop within the deadline is reported and the others still stop', async () => {
  const log: string[] = [];
  const clock = new FakeClock();
  const logger = new MemoryLogger();
  const m = manager(clock, logger);
  await m.add(recorder(log, 'first'));
  await m.add(recorder(log, 'stuck', { stop: () => new Promise(() => {}) }));
  await m.start();
  const stopping = m.stop();
  await clock.waitForTimers(1);
  clock.advance(1000);
  await stopping;
  assert.deepEqual(log, ['start first', 'start stuck', 'stop first']);
  assert.ok(logger.records.some((r) => r.msg.includes('did not stop within the deadline') && r.runnable === 'stuck'));
});

void test('names are unique and nothing is added after stop', async () => {
  const m = manager();
  await m.add(recorder([], 'a'));
  await assert.rejects(m.add(recorder([], 'a')), /added twice/);
  await m.start();
  await m.stop();
  await assert.rejects(m.add(recorder([], 'b')), /has stopped/);
});
