import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryLogger } from '../observability/index.js';
import { LastAppliedFile, type AppliedPolicy } from './last-applied.js';

const policy = (i: number, text = `kind: KubeArmorHostPolicy # ${i}\n`): AppliedPolicy => ({
  key: `KubeArmorHostPolicy/p${i}`, source: 'files', origin: `/p/${i}.yaml`, location: `/p/${i}.yaml`, text,
});

function setup() {
  const dir = mkdtempSync(join(tmpdir(), 'kawin-last-applied-'));
  const log = new MemoryLogger();
  return { dir, log, file: () => new LastAppliedFile(dir, log) };
}

void test('last-applied: what is saved is loaded back, by a new process', async () => {
  const { file } = setup();
  const policies = Array.from({ length: 50 }, (_, i) => policy(i, `line one\n"quoted" ${i}\r\n`));
  await file().save(policies);
  assert.deepEqual(await file().load(), policies);
});

void test('last-applied: nothing is written when what is in force equals what is on disk', async () => {
  const { dir, file } = setup();
  const first = file();
  await first.save([policy(1), policy(2)]);
  const path = join(dir, 'last-applied.json');
  const written = statSync(path).ino;
  await first.save([policy(1), policy(2)]);
  assert.equal(statSync(path).ino, written, 'an unchanged save rewrote the file');
  // After a restart, the loaded state counts as on disk: an unchanged restart writes nothing.
  const restarted = file();
  await restarted.save(await restarted.load());
  assert.equal(statSync(path).ino, written);
  await restarted.save([policy(1), policy(2, 'changed\n')]);
  assert.equal(statSync(path).ino, written, 'a change is appended to the journal, the snapshot left as it is');
  assert.equal(readFileSync(join(dir, 'last-applied.journal'), 'utf8').split('\n').length, 3, 'its header and one line for the one changed policy');
  assert.deepEqual(await file().load(), [policy(1), policy(2, 'changed\n')], 'the snapshot with the journal replayed');
  await restarted.save([policy(2, 'changed\n'), policy(3)]);
  assert.deepEqual(await file().load(), [policy(2, 'changed\n'), policy(3)]);
});

void test('last-applied: a file that does not verify (flipped byte, truncated) is ignored with a log line', async () => {
  const { dir, log, file } = setup();
  await file().save([policy(1), policy(2)]);
  const path = join(dir, 'last-applied.json');
  const good = readFileSync(path, 'utf8');
  writeFileSync(path, good.replace('# 2', '# 3'));
  assert.deepEqual(await file().load(), []);
  writeFileSync(path, good.slice(0, good.lastIndexOf('{')));
  assert.deepEqual(await file().load(), []);
  const errors = log.records.filter((r) => r.msg.startsWith('last-applied policies ignored')).map((r) => String(r.error));
  assert.equal(errors.length, 2);
  assert.match(errors[0]!, /checksum mismatch/);
  assert.match(errors[1]!, /truncated/);
});

void test('last-applied: texts beyond ASCII load back as saved; a snapshot with more lines than its count is ignored', async () => {
  const { dir, log, file } = setup();
  const policies = [policy(1, 'path: C:\\Users\\Jürgen\\€ 😀\n'), policy(2)];
  await file().save(policies);
  assert.deepEqual(await file().load(), policies);
  const path = join(dir, 'last-applied.json');
  const good = readFileSync(path, 'utf8');
  writeFileSync(path, `${good}${good.split('\n')[1]}\n`);
  assert.deepEqual(await file().load(), []);
  assert.match(String(log.records.find((r) => r.msg.startsWith('last-applied policies ignored'))?.error), /found more/);
});

void test('last-applied: a format 1 file (one JSON document) is still read', async () => {
  const { dir, file } = setup();
  const policies = [policy(1), policy(2)];
  const checksum = `sha256:${createHash('sha256').update(JSON.stringify(policies)).digest('hex')}`;
  writeFileSync(join(dir, 'last-applied.json'), `${JSON.stringify({ version: 1, checksum, policies })}\n`);
  assert.deepEqual(await file().load(), policies);
});

void test('last-applied journal: a line cut short by a crash ends the replay there; a journal of another snapshot is ignored', async () => {
  const { dir, log, file } = setup();
  const first = file();
  await first.save([policy(1), policy(2)]);
  await first.save([policy(1, 'one v2\n'), policy(2)]);
  await first.save([policy(1, 'one v2\n')]);
  assert.deepEqual(await file().load(), [policy(1, 'one v2\n')]);
  const journal = join(dir, 'last-applied.journal');
  const full = readFileSync(journal, 'utf8');
  writeFileSync(journal, full.slice(0, full.length - 10));
  assert.deepEqual(await file().load(), [policy(1, 'one v2\n'), policy(2)], 'the torn delete is not applied; the change before it is');
  assert.ok(log.records.some((r) => r.msg.startsWith('last-applied journal cut')));
  // What is saved after a torn line is not lost behind it.
  const resumed = file();
  await resumed.save([...(await resumed.load()), policy(3)]);
  assert.deepEqual(await file().load(), [policy(1, 'one v2\n'), policy(2), policy(3)]);
  await file().save([policy(1, 'one v2\n')]);
  writeFileSync(journal, full.slice(0, full.length - 10));
  // A snapshot written since (not through this journal): the old journal must not apply to it.
  writeFileSync(journal, full);
  const other = setup();
  await other.file().save([policy(7)]);
  writeFileSync(join(dir, 'last-applied.json'), readFileSync(join(other.dir, 'last-applied.json')));
  assert.deepEqual(await file().load(), [policy(7)]);
  assert.ok(log.records.some((r) => r.msg.startsWith('last-applied journal ignored')));
});

void test('last-applied journal: folded into a new snapshot once it outgrows the snapshot', async () => {
  const { dir, file } = setup();
  const big = 'x'.repeat(300_000);
  const saver = file();
  await saver.save([policy(1), policy(2)]);
  for (let v = 0; v < 5; v++) await saver.save([policy(1, `${big}${v}`), policy(2)]);
  assert.ok(readFileSync(join(dir, 'last-applied.journal'), 'utf8').length < 1_300_000, 'folded before it passed the limit');
  assert.deepEqual(await file().load(), [policy(1, `${big}4`), policy(2)]);
  for (let v = 5; v < 12; v++) await saver.save([policy(1, `${big}${v}`), policy(2)]);
  assert.deepEqual(await file().load(), [policy(1, `${big}11`), policy(2)]);
});
