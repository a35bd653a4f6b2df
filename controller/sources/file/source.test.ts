import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, renameSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { FakeClock } from '../../clock/index.js';
import { ObservedCalls } from '../../../test/observed.js';
import type { SourceDocument, SourceSink } from '../types.js';
import { FileSource, PolicyFileTooLargeError, type FileSourceSettled, type FileSourceSettings } from './index.js';

/** Records sink calls with paths relative to the test directory. */
class RecordingSink implements SourceSink {
  calls: string[] = [];
  docs = new Map<string, SourceDocument>();
  revisions: string[] = [];
  rejections: Error[] = [];
  constructor(private readonly base: string) {}
  private rel(p: string): string {
    return relative(this.base, p);
  }
  upsert(source: string, doc: SourceDocument): void {
    assert.equal(source, 'files');
    assert.equal(doc.location, doc.origin);
    this.docs.set(doc.origin, doc);
    this.calls.push(`upsert ${this.rel(doc.origin)}`);
  }
  remove(_source: string, origin: string): void {
    this.docs.delete(origin);
    this.calls.push(`remove ${this.rel(origin)}`);
  }
  synced(_source: string, revision: string): void {
    assert.match(revision, /^sha256:[0-9a-f]{64}$/);
    this.revisions.push(revision);
    this.calls.push('synced');
  }
  failed(_source: string, error: Error): void {
    this.calls.push(`failed ${error.message.replaceAll(this.base + '/', '')}`);
  }
  rejected(_source: string, origin: string, error: Error): void {
    this.rejections.push(error);
    this.calls.push(`rejected ${this.rel(origin)}`);
  }
  take(): string[] {
    const out = this.calls;
    this.calls = [];
    return out;
  }
}

function write(file: string, text: string): void {
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(`${file}.partial`, text);
  renameSync(`${file}.partial`, file);
}

const policy = (name: string) => `apiVersion: security.kubearmor.com/v1\nkind: KubeArmorHostPolicy\nmetadata:\n  name: ${name}\n`;

interface Ctx {
  base: string;
  root: string;
  clock: FakeClock;
  sink: RecordingSink;
  source: FileSource;
  rejectedCount: () => number;
  /** Every rescan's outcome, as the source reports it. */
  rescans: ObservedCalls<[FileSourceSettled]>;
  /** Let the debounce run until a rescan matching `pred` has been reported. */
  settle: (pred?: (s: FileSourceSettled) => boolean) => Promise<FileSourceSettled>;
}

async function withSource(prepare: (base: string) => string[], fn: (ctx: Ctx) => Promise<void>, settings: Partial<FileSourceSettings> = {}): Promise<void> {
  const base = mkdtempSync(join(tmpdir(), 'kawin-files-'));
  const paths = prepare(base);
  const clock = new FakeClock();
  const sink = new RecordingSink(base);
  let rejected = 0;
  const settled = new ObservedCalls<[FileSourceSettled]>();
  const observer = { rejected: () => rejected++, settled: settled.record };
  const source = new FileSource({ paths, clock, debounceMs: 200, failureRetryMs: 1000, observer, ...settings });
  const settle = async (pred: (s: FileSourceSettled) => boolean = () => true) => (await clock.runUntil(settled.next(pred)))[0];
  try {
    await source.start(sink);
    await fn({ base, root: paths[0]!, clock, sink, source, rejectedCount: () => rejected, rescans: settled, settle });
  } finally {
    await source.stop();
    rmSync(base, { recursive: true, force: true });
  }
}

const touches = (name: string) => (s: FileSourceSettled) => [...s.upserted, ...s.removed, ...s.rejected].some((p) => p.endsWith(name));

void test('first scan reports every policy file, ignores editor and VCS leftovers, then reports in sync', async () => {
  await withSource(
    (base) => {
      const root = join(base, 'policies');
      write(join(root, 'a.yaml'), policy('a'));
      write(join(root, 'nested', 'deep', 'b.yml'), policy('b'));
      write(join(root, 'c.json'), '{"kind": "KubeArmorHostPolicy"}');
      for (const junk of ['.a.yaml.swp', 'a.yaml~', '.#a.yaml', '4913', '#a.yaml#', 'README.md', '.hidden.yaml', '.git/config.yaml', 'a.yaml.bak']) write(join(root, junk), 'x');
      return [root];
    },
    async ({ sink, source }) => {
      assert.deepEqual(sink.take(), ['upsert policies/a.yaml', 'upsert policies/c.json', 'upsert policies/nested/deep/b.yml', 'synced']);
      assert.equal([...sink.docs.values()].find((d) => d.origin.endsWith('a.yaml'))!.text, policy('a'));
      await source.rescan();
      assert.deepEqual(sink.take(), [], 'an unchanged tree is not re-reported');
    },
  );
});

void test('changes, deletions, new directories and editor temp files, debounced on the clock', async () => {
  await withSource(
    (base) => {
      write(join(base, 'p', 'a.yaml'), policy('a'));
      write(join(base, 'p', 'b.yaml'), policy('b'));
      return [join(base, 'p')];
    },
    async ({ root, sink, settle }) => {
      const first = sink.revisions.at(-1);
      sink.take();
      writeFileSync(join(root, '.a.yaml.swp'), 'swap');
      writeFileSync(join(root, '4913'), '');
      writeFileSync(join(root, 'a.yaml~'), 'backup');
      write(join(root, 'a.yaml'), policy('a2'));
      await settle(touches('a.yaml'));
      assert.deepEqual(sink.take(), ['upsert p/a.yaml', 'synced']);
      assert.notEqual(sink.revisions.at(-1), first);

      write(join(root, 'a.yaml'), policy('a2'));
      write(join(root, 'b.yaml'), policy('b2'));
      await settle(touches('b.yaml'));
      assert.deepEqual(sink.take(), ['upsert p/b.yaml', 'synced'], 'rewriting identical content reports nothing');

      unlinkSync(join(root, 'b.yaml'));
      await settle(touches('b.yaml'));
      assert.deepEqual(sink.take(), ['remove p/b.yaml', 'synced']);

      mkdirSync(join(root, 'team'));
      write(join(root, 'team', 'c.yaml'), policy('c'));
      await settle(touches('c.yaml'));
      write(join(root, 'team', 'd.yaml'), policy('d'));
      await settle(touches('d.yaml'));
      assert.deepEqual(sink.take(), ['upsert p/team/c.yaml', 'synced', 'upsert p/team/d.yaml', 'synced'], 'a new directory is watched');

      rmSync(join(root, 'team'), { recursive: true });
      await settle(touches('d.yaml'));
      assert.deepEqual(sink.take(), ['remove p/team/c.yaml', 'remove p/team/d.yaml', 'synced']);
    },
  );
});

void test('a burst of writes within the debounce window is one rescan', async () => {
  await withSource(
    (base) => [join(base, 'p')].map((d) => (mkdirSync(d), d)),
    async ({ root, sink, settle }) => {
      sink.take();
      for (let i = 0; i < 20; i++) write(join(root, `f${i % 5}.yaml`), policy(`v${i}`));
      const s = await settle((r) => r.upserted.length > 0);
      assert.equal(s.upserted.length, 5);
      assert.deepEqual(sink.take().filter((c) => c === 'synced'), ['synced']);
      for (let i = 0; i < 5; i++) assert.equal([...sink.docs.values()].find((d) => d.origin.endsWith(`f${i}.yaml`))!.text, policy(`v${15 + i}`));
    },
  );
});

void test('a steady writer cannot postpone the rescan past debounceMaxWaitMs from its first event', async () => {
  await withSource(
    (base) => [join(base, 'p')].map((d) => (mkdirSync(d), d)),
    async ({ root, clock, sink, rescans }) => {
      sink.take();
      const rescan = rescans.next((r) => r.upserted.length > 0);
      write(join(root, 'a.yaml'), policy('v1'));
      await clock.waitForTimers(1); // the first event armed the debounce
      const first = clock.now();
      await clock.advanceAsync(150);
      write(join(root, 'a.yaml'), policy('v2'));
      // A quiet period alone would now be due in 200 ms; the maximum wait holds it to 300 ms after the first event.
      const deadline = Date.now() + 5000;
      while (clock.nextTimerIn() !== 150) {
        assert.ok(Date.now() < deadline, `the second write's event never re-armed the debounce (next in ${clock.nextTimerIn()} ms)`);
        await new Promise((r) => setImmediate(r));
      }
      await clock.advanceAsync(150);
      const [s] = await rescan;
      assert.equal(clock.now() - first, 300);
      assert.deepEqual(s.upserted.map((p) => relative(root, p)), ['a.yaml']);
    },
    { debounceMs: 200, debounceMaxWaitMs: 300 },
  );
});

void test('a git-sync symlink swap of the whole root reports only what differs', async () => {
  await withSource(
    (base) => {
      write(join(base, '.git-sync', 'rev1', 'a.yaml'), policy('a'));
      write(join(base, '.git-sync', 'rev1', 'b.yaml'), policy('b'));
      write(join(base, '.git-sync', 'rev1', 'sub', 'c.yaml'), policy('c'));
      symlinkSync(join('.git-sync', 'rev1'), join(base, 'repo'));
      return [join(base, 'repo')];
    },
    async ({ base, sink, settle }) => {
      assert.deepEqual(sink.take(), ['upsert repo/a.yaml', 'upsert repo/b.yaml', 'upsert repo/sub/c.yaml', 'synced']);
      write(join(base, '.git-sync', 'rev2', 'a.yaml'), policy('a-changed'));
      write(join(base, '.git-sync', 'rev2', 'b.yaml'), policy('b'));
      write(join(base, '.git-sync', 'rev2', 'sub', 'd.yaml'), policy('d'));
      symlinkSync(join('.git-sync', 'rev2'), join(base, 'repo.tmp'));
      renameSync(join(base, 'repo.tmp'), join(base, 'repo'));
      await settle(touches('a.yaml'));
      rmSync(join(base, '.git-sync', 'rev1'), { recursive: true });
      assert.deepEqual(sink.take(), ['upsert repo/a.yaml', 'upsert repo/sub/d.yaml', 'remove repo/sub/c.yaml', 'synced']);
      write(join(base, '.git-sync', 'rev2', 'sub', 'e.yaml'), policy('e'));
      await settle(touches('e.yaml'));
      assert.deepEqual(sink.take(), ['upsert repo/sub/e.yaml', 'synced'], 'the new revision is watched');
    },
  );
});

void test('a missing or vanished directory fails the source and prunes nothing until it is back', async () => {
  await withSource(
    (base) => [join(base, 'later')],
    async ({ base, root, sink, settle }) => {
      assert.deepEqual(sink.take(), ['failed policy directory unavailable (nothing is removed until it is back): later: does not exist']);
      write(join(root, 'a.yaml'), policy('a'));
      write(join(root, 'b.yaml'), policy('b'));
      await settle((s) => s.inSync);
      assert.deepEqual(sink.take(), ['upsert later/a.yaml', 'upsert later/b.yaml', 'synced']);

      renameSync(root, join(base, 'elsewhere'));
      const failed = await settle((s) => !s.inSync);
      assert.deepEqual(failed.removed, []);
      assert.deepEqual(sink.take(), ['failed policy directory unavailable (nothing is removed until it is back): later: does not exist']);
      await settle((s) => !s.inSync);
      assert.deepEqual(sink.take(), [], 'a continuing outage is reported once');

      mkdirSync(root);
      write(join(root, 'a.yaml'), policy('a'));
      await settle((s) => s.inSync);
      assert.deepEqual(sink.take(), ['remove later/b.yaml', 'synced'], 'after recovery the full rescan reconciles');
    },
  );
});

void test('oversized files are rejected and counted; the previous version stays until a good one arrives', async () => {
  await withSource(
    (base) => {
      write(join(base, 'p', 'big.yaml'), policy('small'));
      return [join(base, 'p')];
    },
    async ({ root, sink, settle, rejectedCount }) => {
      sink.take();
      write(join(root, 'big.yaml'), policy('x'.repeat(2000)));
      await settle(touches('big.yaml'));
      assert.deepEqual(sink.take(), ['rejected p/big.yaml']);
      assert.ok(sink.rejections[0] instanceof PolicyFileTooLargeError);
      assert.match(sink.rejections[0]!.message, /over the limit of 1024 bytes \(sources\.files\.maxFileBytes\)/);
      assert.equal(rejectedCount(), 1);
      assert.equal([...sink.docs.values()][0]!.text, policy('small'), 'nothing removed or replaced');
      write(join(root, 'big.yaml'), policy('fits'));
      await settle(touches('big.yaml'));
      assert.deepEqual(sink.take(), ['upsert p/big.yaml', 'synced']);
    },
    { maxFileBytes: 1024 },
  );
});

void test('reconfigure to other directories removes what the dropped ones contributed', async () => {
  await withSource(
    (base) => {
      write(join(base, 'one', 'a.yaml'), policy('a'));
      write(join(base, 'two', 'b.yaml'), policy('b'));
      return [join(base, 'one')];
    },
    async ({ base, sink, source }) => {
      sink.take();
      await source.reconfigure({ paths: [join(base, 'two')] });
      assert.deepEqual(sink.take(), ['upsert two/b.yaml', 'remove one/a.yaml', 'synced']);
    },
  );
});

void test('a policy file swapped for a FIFO is refused without blocking; later edits are still picked up', async () => {
  await withSource(
    (base) => {
      write(join(base, 'p', 'a.yaml'), policy('a'));
      write(join(base, 'p', 'b.yaml'), policy('b'));
      return [join(base, 'p')];
    },
    async ({ root, sink, settle }) => {
      sink.take();
      unlinkSync(join(root, 'a.yaml'));
      execFileSync('mkfifo', [join(root, 'a.yaml')]);
      await settle(touches('a.yaml'));
      assert.deepEqual(sink.take(), ['rejected p/a.yaml'], 'refused, not read and not removed');
      assert.match(sink.rejections[0]!.message, /a\.yaml is a fifo, not a regular file; its previous version stays in force/);
      write(join(root, 'b.yaml'), policy('b2'));
      await settle(touches('b.yaml'));
      assert.deepEqual(sink.take(), ['upsert p/b.yaml', 'synced']);
    },
  );
});

void test('a symlink to a device is refused; UTF-16 with a BOM is read; invalid UTF-8 is refused with its byte', async () => {
  await withSource(
    (base) => {
      const root = join(base, 'p');
      mkdirSync(root);
      symlinkSync('/dev/zero', join(root, 'zero.yaml'));
      writeFileSync(join(root, 'ps.yaml'), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(policy('ps'), 'utf16le')]));
      writeFileSync(join(root, 'latin1.yaml'), Buffer.from(`${policy('x')}# caf\xe9\n`, 'latin1'));
      writeFileSync(join(root, 'bare16.yaml'), Buffer.from(policy('b'), 'utf16le'));
      return [root];
    },
    async ({ sink }) => {
      assert.deepEqual(sink.take(), ['rejected p/bare16.yaml', 'rejected p/latin1.yaml', 'upsert p/ps.yaml', 'rejected p/zero.yaml', 'synced']);
      assert.equal([...sink.docs.values()][0]!.text, policy('ps'));
      const messages = sink.rejections.map((e) => e.message.replaceAll(/\S*\/p\//g, ''));
      assert.deepEqual(messages, [
        'bare16.yaml: UTF-16 text without a byte-order mark at byte 1; save the file as UTF-8 (or UTF-16 with a byte-order mark)',
        `latin1.yaml: invalid UTF-8 at byte ${policy('x').length + 5}; save the file as UTF-8 (or UTF-16 with a byte-order mark)`,
        'zero.yaml is a character device, not a regular file; its previous version stays in force',
      ]);
    },
  );
});

void test('a rejected file that is deleted is reported gone, so nothing keeps counting it', async () => {
  await withSource(
    (base) => [join(base, 'p')].map((d) => (mkdirSync(d), d)),
    async ({ root, sink, settle }) => {
      sink.take();
      write(join(root, 'big.yaml'), policy('x'.repeat(2000)));
      await settle(touches('big.yaml'));
      assert.deepEqual(sink.take(), ['rejected p/big.yaml']);
      unlinkSync(join(root, 'big.yaml'));
      await settle(touches('big.yaml'));
      assert.deepEqual(sink.take(), ['remove p/big.yaml']);
    },
    { maxFileBytes: 1024 },
  );
});

void test('an unreadable subdirectory fails alone, named; the rest of the tree keeps updating', async () => {
  await withSource(
    (base) => {
      write(join(base, 'p', 'a.yaml'), policy('a'));
      write(join(base, 'p', 'locked', 'b.yaml'), policy('b'));
      write(join(base, 'p', 'c.yaml'), policy('c'));
      return [join(base, 'p')];
    },
    async ({ root, sink, settle }) => {
      sink.take();
      // Unreadable whoever runs the test (root reads a mode-000 directory): a link that loops.
      renameSync(join(root, 'locked'), join(root, '.locked'));
      symlinkSync('locked', join(root, 'locked'));
      write(join(root, 'a.yaml'), policy('a2'));
      await settle(touches('a.yaml'));
      const calls = sink.take();
      assert.equal(calls[0], 'upsert p/a.yaml');
      assert.match(calls[1]!, /^failed policy directory unavailable \(nothing is removed until it is back\): p\/locked: ELOOP/);
      assert.equal(calls.length, 2, 'b.yaml is not removed');
      unlinkSync(join(root, 'c.yaml'));
      await settle(touches('c.yaml'));
      assert.deepEqual(sink.take(), ['remove p/c.yaml'], 'a deletion elsewhere is applied');
      unlinkSync(join(root, 'locked'));
      renameSync(join(root, '.locked'), join(root, 'locked'));
      await settle((s) => s.inSync);
      assert.deepEqual(sink.take(), ['synced']);
    },
  );
});
