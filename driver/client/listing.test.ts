import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEmulator } from '../../test/emulator.js';
import { MatchType, RuleKind, type DriverRule } from '../abi/types.js';
import { GenerationConflictError } from './errors.js';

/** A listing as plain data (its records decoded). */
const plain = (t: { generation: bigint; rules: unknown[] }) => ({ generation: t.generation, rules: t.rules });

const rule = (i: number): DriverRule => ({
  id: BigInt(i) * 7919n + 1n, kind: i % 3 ? RuleKind.File : RuleKind.Process, action: (i % 3) + 1, flags: i % 2,
  target: { path: `/srv/app${i % 97}/data/file-${i}.bin`, match: i % 4 === 0 ? MatchType.Glob : MatchType.Exact },
  ...(i % 5 === 0 ? { source: { path: `/usr/bin/tool${i % 13}`, match: MatchType.Exact } } : {}),
});
const byId = (a: DriverRule, b: DriverRule): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

void describe('listRules', () => {
  void it('pages through 100k rules from a tiny buffer: all of them, equal to what was added', async (t) => {
    const emu = await startEmulator(t, { flavor: 'posix' });
    const client = await emu.client({ listing: { initialBufferBytes: 48 } });
    const added = Array.from({ length: 100_000 }, (_, i) => rule(i));
    const result = await client.apply({ expectedGeneration: 0n, remove: [], add: added });
    assert.equal(result.added, 100_000);
    const table = await client.listRules();
    assert.equal(table.generation, 1n);
    assert.equal(table.rules.length, 100_000);
    assert.deepEqual(table.rules, [...added].sort(byId));
    assert.ok(client.lastListing.bufferGrowths >= 1, 'ERROR_MORE_DATA grew the buffer');
    assert.ok(client.lastListing.pages > 1, 'more than one page');
  });

  void it('an empty table is one page', async (t) => {
    const client = await (await startEmulator(t)).client();
    assert.deepEqual(plain(await client.listRules()), { generation: 0n, rules: [] });
  });

  void it('restarts when the table changes between pages, returning one consistent snapshot', async (t) => {
    const emu = await startEmulator(t, { flavor: 'posix' });
    const writer = await emu.client();
    await writer.addRules(Array.from({ length: 50 }, (_, i) => rule(i)));
    let changed = false;
    const reader = await emu.client({
      listing: { initialBufferBytes: 512 },
      observer: {
        ioctl: (op) => {
          if (op !== 'LIST_RULES' || changed) return;
          changed = true; // between the first and the second page
          void writer.addRules([rule(1000)]);
        },
      },
    });
    const table = await reader.listRules();
    assert.equal(reader.lastListing.restarts, 1);
    assert.equal(table.generation, 2n);
    assert.deepEqual(table.rules, [...Array.from({ length: 50 }, (_, i) => rule(i)), rule(1000)].sort(byId));
  });

  void it('gives up with a conflict when the table never holds still', async (t) => {
    const emu = await startEmulator(t, { flavor: 'posix' });
    const writer = await emu.client();
    await writer.addRules(Array.from({ length: 20 }, (_, i) => rule(i)));
    let n = 100;
    const reader = await emu.client({
      listing: { initialBufferBytes: 256, maxRestarts: 3 },
      observer: { ioctl: (op) => { if (op === 'LIST_RULES') void writer.addRules([rule(n++)]); } },
    });
    await assert.rejects(reader.listRules(), GenerationConflictError);
    assert.equal(reader.lastListing.restarts, 4);
  });
});
