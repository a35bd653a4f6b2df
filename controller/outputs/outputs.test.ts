import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { FakeClock } from '../clock/index.js';
import { RecordBuilder } from '../events/build.js';
import { hostEvent, lookup } from '../events/test-fixtures.js';
import { BufferedLineOutput, type LineTarget } from './buffered.js';
import { createOutputs } from './outputs.js';
import { RotatingFile } from './rotating-file.js';

const builder = new RecordBuilder({
  hostName: 'win-node-1', clusterName: 'prod', hostTelemetry: true, allowAlerts: false,
  provenance: lookup([{ ruleId: 0x1234n, action: 'Block', origins: [{ kind: 'KubeArmorHostPolicy', policy: 'block-secrets', severity: 5, tags: ['t'], message: 'm' }] }]),
});
const alert = builder.alert(hostEvent());
const log = builder.log(hostEvent({ decision: 1, ruleId: 0n, status: 0 }));
const message = { Timestamp: 1, UpdatedTime: 'x', ClusterName: 'prod', HostName: 'h', HostIP: '', Type: 'SystemEvent', Level: 'WARN', Message: 'lost' };

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'kawin-outputs-'));
  try { await fn(dir); } finally { await rm(dir, { recursive: true, force: true }); }
}

void test('the file output writes selected records as JSON lines with upstream field names', () => withDir(async (dir) => {
  const path = join(dir, 'logs', 'alerts.jsonl');
  const outputs = createOutputs({ file: { enabled: true, path, alerts: true, logs: false, maxBytes: 1 << 20, maxFiles: 2 } }, { registry: new Registry() });
  const [sink] = outputs.sinks;
  sink!.alert(alert);
  sink!.log(log);
  sink!.message(message);
  await outputs.close();
  const lines = (await readFile(path, 'utf8')).trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.equal(lines.length, 2, 'the alert and the SystemEvent; logs not selected');
  assert.equal(lines[0]!.PolicyName, 'block-secrets');
  assert.equal(lines[0]!.Result, 'Permission denied');
  assert.equal(lines[0]!.Resource, 'C:\\secret\\key.txt');
  assert.equal(lines[0]!.Timestamp, alert.Timestamp);
  assert.equal(lines[0]!.UpdatedTime, '2026-11-21T10:00:00.123456Z');
  assert.equal(lines[1]!.Type, 'SystemEvent');
  assert.deepEqual(outputs.stats(), { file: { lines: 2, dropped: 0, writeErrors: 0, rotations: 0 } });
}));

void test('the file rotates by size and keeps maxFiles old files', () => withDir(async (dir) => {
  const path = join(dir, 'out.jsonl');
  const file = new RotatingFile({ path, maxBytes: 100, maxFiles: 2 });
  const line = (i: number) => `${JSON.stringify({ i, pad: 'x'.repeat(30) })}\n`; // 49 bytes each
  for (let i = 0; i < 9; i++) await file.write(line(i));
  await file.close();
  assert.deepEqual((await readdir(dir)).sort(), ['out.jsonl', 'out.jsonl.1', 'out.jsonl.2']);
  const read = async (p: string) => (await readFile(p, 'utf8')).trimEnd().split('\n').map((l) => (JSON.parse(l) as { i: number }).i);
  assert.deepEqual(await read(path), [8]);
  assert.deepEqual(await read(`${path}.1`), [6, 7]);
  assert.deepEqual(await read(`${path}.2`), [4, 5], 'lines 0–3 rotated out beyond maxFiles');
  assert.equal(file.rotations, 4);
  // A restarted agent appends to the existing file and keeps counting its size.
  const again = new RotatingFile({ path, maxBytes: 100, maxFiles: 2 });
  await again.write(line(9));
  await again.write(line(10));
  await again.close();
  assert.deepEqual(await read(path), [10]);
  assert.deepEqual(await read(`${path}.1`), [8, 9]);
}));

void test('maxFiles 0 starts the file over; bad limits are refused by name', () => withDir(async (dir) => {
  const path = join(dir, 'out.jsonl');
  const file = new RotatingFile({ path, maxBytes: 10, maxFiles: 0 });
  await file.write('0123456789\n');
  await file.write('abc\n');
  await file.close();
  assert.equal(await readFile(path, 'utf8'), 'abc\n');
  assert.deepEqual(await readdir(dir), ['out.jsonl']);
  assert.throws(() => new RotatingFile({ path, maxBytes: 0, maxFiles: 1 }), /outputs\.file\.maxBytes/);
  assert.throws(() => new RotatingFile({ path, maxBytes: 10, maxFiles: -1 }), /outputs\.file\.maxFiles/);
}));

/** A target that holds every write until released: a stalled disk or pipe. */
class StalledTarget implements LineTarget {
  chunks: string[] = [];
  private release: (() => void) | undefined;
  write(chunk: string): Promise<void> {
    this.chunks.push(chunk);
    return new Promise((r) => { this.release = r; });
  }
  unblock(): void { this.release?.(); this.release = undefined; }
  async close(): Promise<void> {}
}

void test('a stalled writer never blocks push: the oldest lines drop, counted, and the loss is written', async () => {
  const target = new StalledTarget();
  const out = new BufferedLineOutput(target, { name: 'file', maxBufferBytes: 30, clock: new FakeClock(Date.parse('2026-11-21T10:00:00Z')) });
  out.push('first\n');
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(target.chunks, ['first\n'], 'the first chunk is with the writer, which stalls');
  for (let i = 0; i < 10; i++) out.push(`line-${i}\n`); // 7 chars each, 30 chars hold 4
  assert.equal(out.counts.dropped, 6);
  target.unblock();
  await new Promise((r) => setImmediate(r));
  const second = target.chunks[1]!.split('\n');
  assert.deepEqual(JSON.parse(second[0]!), {
    Timestamp: Date.parse('2026-11-21T10:00:00Z') / 1000, UpdatedTime: '2026-11-21T10:00:00.000000Z',
    Type: 'SystemEvent', Level: 'WARN', Message: 'kawin output file dropped 6 lines (its buffer was full)',
  });
  assert.deepEqual(second.slice(1), ['line-6', 'line-7', 'line-8', 'line-9', '']);
  target.unblock();
  await out.close();
  assert.deepEqual(out.counts, { lines: 5, dropped: 6, writeErrors: 0 });
});

void test('stdout output honours backpressure and counts on the registry', async () => {
  const registry = new Registry();
  const stdout = new PassThrough({ highWaterMark: 64 });
  const outputs = createOutputs({ stdout: { enabled: true, alerts: true, logs: true, maxBufferBytes: 4096 } }, { registry, stdout });
  outputs.sinks[0]!.alert(alert);
  await new Promise((r) => setImmediate(r)); // the first line is with the stream, which is full
  for (let i = 0; i < 49; i++) outputs.sinks[0]!.alert(alert);
  let text = '';
  stdout.on('data', (d: Buffer) => { text += d.toString(); });
  await outputs.close();
  const stats = outputs.stats().stdout!;
  assert.ok(stats.dropped > 0, 'a reader slower than the producer costs lines, not memory');
  const lines = text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(lines.slice(0, 3).map((l) => l.Type), ['MatchedHostPolicy', 'SystemEvent', 'MatchedHostPolicy']);
  assert.equal(lines[1]!.Message, `kawin output stdout dropped ${stats.dropped} lines (its buffer was full)`);
  assert.equal(lines.length, stats.lines + 1);
  assert.equal(stats.lines + stats.dropped, 50);
  const metrics = await registry.getMetricsAsJSON();
  const dropped = metrics.find((m) => m.name === 'kawin_output_dropped_lines_total')!;
  assert.deepEqual(dropped.values.map((v) => [v.labels.output, v.value]), [['stdout', stats.dropped]]);
});

void test('a failing writer counts errors and lost lines', async () => {
  const broken = new Writable({ write(_c, _e, cb) { cb(new Error('EPIPE')); } });
  const errors: string[] = [];
  const outputs = createOutputs({ stdout: { enabled: true, alerts: true, logs: true } }, { registry: new Registry(), stdout: broken, observer: { failed: (o, e) => errors.push(`${o}: ${e.message}`) } });
  outputs.sinks[0]!.alert(alert);
  await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  outputs.sinks[0]!.alert(alert);
  await outputs.close();
  assert.equal(outputs.stats().stdout!.writeErrors >= 1, true);
  assert.equal(errors[0], 'stdout: EPIPE');
});
