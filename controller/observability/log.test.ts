import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, MemoryLogger, type LoggingOptions } from './index.js';

function capture(tty: boolean) {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  stream.isTTY = tty;
  const chunks: string[] = [];
  stream.on('data', (c: Buffer) => chunks.push(c.toString()));
  return { stream, lines: () => chunks.join('').split('\n').filter(Boolean) };
}

void test('JSON lines carry time, level, msg and fields; children add a reconcileID', async () => {
  const { stream, lines } = capture(false);
  const log = createLogger({ stream, format: 'auto' });
  const child = log.child({ reconcileID: 'r-1' });
  child.info('applied', { generation: 42n, rules: 3, error: new Error('outer', { cause: new Error('inner') }) });
  log.debug('hidden at info');
  await log.close();
  const out = lines();
  assert.equal(out.length, 1);
  const record = JSON.parse(out[0]!);
  assert.deepEqual(Object.keys(record).slice(0, 3), ['time', 'level', 'msg']);
  assert.equal(record.level, 'info');
  assert.equal(record.msg, 'applied');
  assert.equal(record.reconcileID, 'r-1');
  assert.equal(record.generation, '42');
  assert.deepEqual(record.error, { name: 'Error', message: 'outer', cause: { name: 'Error', message: 'inner' } });
  assert.ok(!Number.isNaN(Date.parse(record.time)));
});

void test('the level changes at runtime for the whole tree', async () => {
  const { stream, lines } = capture(false);
  const log = createLogger({ stream, level: 'warn' });
  const child = log.child({ a: 1 });
  child.info('dropped');
  child.setLevel('debug');
  child.debug('kept');
  log.info('kept too');
  assert.equal(log.level, 'debug');
  await log.close();
  assert.deepEqual(lines().map((l) => JSON.parse(l).msg), ['kept', 'kept too']);
});

void test('a terminal gets readable text; a file gets JSON lines', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-log-'));
  try {
    const { stream, lines } = capture(true);
    const options: LoggingOptions = { stream, file: join(dir, 'agent.log') };
    const log = createLogger(options);
    log.warn('source failed', { source: 'files', reason: 'no such directory' });
    await log.close();
    const [line] = lines();
    const [time, ...rest] = line!.split(' ');
    assert.ok(!Number.isNaN(Date.parse(time!)));
    assert.equal(rest.join(' '), '\x1b[33mWARN \x1b[0m source failed source=files reason="no such directory"');
    const fileRecord = JSON.parse(readFileSync(join(dir, 'agent.log'), 'utf8').trim());
    assert.equal(fileRecord.msg, 'source failed');
    assert.equal(fileRecord.source, 'files');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('reconfigure switches format and level live', async () => {
  const first = capture(false);
  const second = capture(false);
  const log = createLogger({ stream: first.stream });
  const child = log.child({ c: true });
  child.info('one');
  log.reconfigure({ stream: second.stream, format: 'text', level: 'debug' });
  child.debug('two');
  await log.close();
  assert.equal(first.lines().length, 1);
  assert.match(second.lines()[0]!, /DEBUG two c=true$/);
});

void test('fields named like fixed keys do not overwrite them', () => {
  const log = new MemoryLogger();
  log.child({ msg: 'x' }).info('real', { level: 'nope' });
  assert.equal(log.records[0]!.msg, 'real');
  assert.equal(log.records[0]!.level, 'info');
  assert.equal(log.records[0]!['field.msg'], 'x');
  assert.equal(log.records[0]!['field.level'], 'nope');
});
