import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEmulator } from '../../test/emulator.js';
import { MatchType, RuleAction, RuleKind, type DriverRule } from '../abi/types.js';
import { OFF_THREAD_RULES } from './client.js';
import { GenerationConflictError } from './errors.js';

const rules = (n: number, from = 1): DriverRule[] => Array.from({ length: n }, (_, i) => ({
  id: BigInt(from + i), kind: RuleKind.File, action: RuleAction.Block, flags: 0,
  target: { path: `\\Device\\HarddiskVolume3\\app${from + i}\\tool.exe`, match: MatchType.Exact },
}));

/** Resolves `run`, and tells whether the event loop turned (a setImmediate ran) before it settled. */
async function loopTurned<T>(run: () => Promise<T>): Promise<{ value: T; turned: boolean }> {
  let turned = false;
  const probe = setImmediate(() => { turned = true; });
  try {
    return { value: await run(), turned };
  } finally {
    clearImmediate(probe);
  }
}

void describe('large IOCTLs off the main thread', () => {
  void it('a large APPLY is one atomic request sent from the IOCTL thread; the event loop turns meanwhile', async (t) => {
    const client = await (await startEmulator(t)).client();
    const add = rules(OFF_THREAD_RULES * 3);
    const { value, turned } = await loopTurned(() => client.apply({ expectedGeneration: 0n, remove: [], add }));
    assert.deepEqual(value, { generation: 1n, added: add.length, replaced: 0, removed: 0, missing: 0 }, 'one transaction, one generation');
    assert.ok(turned, 'the main thread was not held for the whole APPLY');
    const table = await loopTurned(() => client.listRules());
    assert.equal(table.value.rules.length, add.length);
    assert.deepEqual(table.value.rules.map((r) => r.id), add.map((r) => r.id));
    assert.ok(table.turned, `a large read-back yields between pages (${JSON.stringify(client.lastListing)})`);
  });

  void it('once a read-back was large, the next one goes to the IOCTL thread from its first page', async (t) => {
    // One page holds the whole table: only the hint from the last listing can move it off the thread.
    const client = await (await startEmulator(t)).client({ listing: { initialBufferBytes: 8 << 20 } });
    await client.apply({ expectedGeneration: 0n, remove: [], add: rules(OFF_THREAD_RULES * 2) });
    const first = await loopTurned(() => client.listRules());
    assert.equal(client.lastListing.pages, 1);
    assert.equal(first.turned, false, 'a table not yet known to be large is read on the calling thread');
    const second = await loopTurned(() => client.listRules());
    assert.equal(second.value.rules.length, OFF_THREAD_RULES * 2);
    assert.equal(second.turned, true, 'the event loop turned while the one page was read');
  });

  void it('the error of an off-thread APPLY is read on the thread that made the call, and nothing is applied', async (t) => {
    const client = await (await startEmulator(t)).client();
    await client.apply({ expectedGeneration: 0n, remove: [], add: rules(1) });
    await assert.rejects(client.apply({ expectedGeneration: 0n, remove: [], add: rules(OFF_THREAD_RULES, 10) }), GenerationConflictError);
    const state = await client.getState();
    assert.deepEqual([state.generation, state.ruleCount], [1n, 1], 'a refused APPLY changes nothing');
  });

  void it('calls made while a large APPLY is in flight queue behind it and see its result', async (t) => {
    const client = await (await startEmulator(t)).client();
    const applying = client.apply({ expectedGeneration: 0n, remove: [], add: rules(OFF_THREAD_RULES * 2) });
    // Issued once the APPLY has been handed to the IOCTL thread (encoding yields first).
    await new Promise((r) => setTimeout(r, 0));
    const [applied, state] = await Promise.all([applying, (async () => {
      while (true) {
        const s = await client.getState();
        if (s.generation === 1n) return s;
        await new Promise((r) => setImmediate(r));
      }
    })()]);
    assert.equal(applied.generation, 1n);
    assert.equal(state.ruleCount, OFF_THREAD_RULES * 2);
  });

  void it("with ioctlThread 'all-once-started' (the agent), once a large APPLY started the thread, a one-rule APPLY and GET_STATE leave the event loop free too; errors still come back typed", async (t) => {
    const client = await (await startEmulator(t)).client({ ioctlThread: 'all-once-started' });
    const before = await loopTurned(() => client.apply({ expectedGeneration: 0n, remove: [], add: rules(1, 1_000_000) }));
    assert.equal(before.turned, false, 'no thread yet: a small table starts none');
    await client.apply({ expectedGeneration: 1n, remove: [], add: rules(OFF_THREAD_RULES) });
    const small = await loopTurned(() => client.apply({ expectedGeneration: 2n, remove: [], add: rules(1, 2_000_000) }));
    assert.equal(small.value.generation, 3n);
    assert.equal(small.turned, true, 'a small APPLY went to the IOCTL thread');
    const state = await loopTurned(() => client.getState());
    assert.deepEqual([state.value.generation, state.value.ruleCount, state.turned], [3n, OFF_THREAD_RULES + 2, true]);
    await assert.rejects(client.apply({ expectedGeneration: 0n, remove: [], add: rules(1, 5_000_000) }), GenerationConflictError);
    assert.equal((await client.getState()).ruleCount, OFF_THREAD_RULES + 2, 'the refused APPLY changed nothing');
  });

  void it("by default (a CLI command) a small APPLY stays on the calling thread", async (t) => {
    const client = await (await startEmulator(t)).client();
    const small = await loopTurned(() => client.apply({ expectedGeneration: 0n, remove: [], add: rules(1) }));
    assert.equal(small.turned, false);
  });
});
