// Atomic APPLY under concurrent writers: two threads with their own clients apply
// conflicting transactions against the same generation at the same moment. Exactly one
// wins, the other gets GenerationConflictError, and the table is exactly the winner's
// outcome, never a mix.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { startEmulator, type EmulatorFixture } from '../../test/emulator.js';
import { MatchType, RuleAction, RuleKind, type DriverRule } from '../abi/types.js';
import type { ApplyTransaction } from './types.js';

const ROUNDS = 6;
const rule = (id: number, tag: string): DriverRule =>
  ({ id: BigInt(id), kind: RuleKind.File, action: RuleAction.Block, flags: 0, target: { path: `/${tag}/${id}`, match: MatchType.Exact } });
const ids = (from: number, n: number): number[] => Array.from({ length: n }, (_, i) => from + i);
type Outcome = { ok: true; generation: bigint } | { ok: false; error: string };

/** A writer thread; next() is its outcome of the next round. */
function racer(emu: EmulatorFixture, control: SharedArrayBuffer, tx: Omit<ApplyTransaction, 'expectedGeneration'>, generations: bigint[]) {
  const worker = new Worker(new URL('./worker-entry.mjs', import.meta.url), {
    workerData: { entry: 'apply-race.worker', library: emu.library, device: emu.device, port: emu.port, control, tx, generations },
  });
  const outcomes: Outcome[] = [];
  const waiting: Array<(o: Outcome) => void> = [];
  let failure: unknown;
  worker.on('message', (m: Outcome) => (waiting.length ? waiting.shift()!(m) : outcomes.push(m)));
  worker.on('error', (e) => { failure = e; });
  return {
    next: (): Promise<Outcome> => (failure ? Promise.reject(failure) : outcomes.length ? Promise.resolve(outcomes.shift()!) : new Promise((r) => waiting.push(r))),
    exited: new Promise((r) => worker.once('exit', r)),
  };
}

const keys = (rules: readonly DriverRule[]): string[] => rules.map((r) => `${r.id}:${r.target.path}`).sort();

void describe('atomic APPLY', () => {
  void it('two concurrent writers: one wins, one conflicts, the table is exactly one outcome', async (t) => {
    const emu = await startEmulator(t, { flavor: 'posix' });
    const client = await emu.client();
    const base = ids(1, 2000).map((i) => rule(i, 'base'));
    await client.apply({ expectedGeneration: 0n, remove: [], add: base });
    // A removes the first half of base and adds 3000 rules; B removes the second half and adds 3000 others.
    const txA = { remove: ids(1, 1000).map(BigInt), add: ids(10_000, 3000).map((i) => rule(i, 'a')) };
    const txB = { remove: ids(1001, 1000).map(BigInt), add: ids(20_000, 3000).map((i) => rule(i, 'b')) };
    const expectA = keys([...base.slice(1000), ...txA.add]);
    const expectB = keys([...base.slice(0, 1000), ...txB.add]);
    // Each round: the winner bumps the generation, restoring base bumps it again.
    const generations = ids(0, ROUNDS).map((k) => BigInt(1 + 2 * k));
    const control = new SharedArrayBuffer(8);
    const flags = new Int32Array(control);
    const writers = [racer(emu, control, txA, generations), racer(emu, control, txB, generations)];
    const wins = { a: 0, b: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      while (Atomics.load(flags, 1) < 2 * (round + 1)) await new Promise((r) => setTimeout(r, 1));
      Atomics.store(flags, 0, round + 1);
      Atomics.notify(flags, 0);
      const [a, b] = await Promise.all(writers.map((w) => w.next()));
      assert.deepEqual([a!.ok, b!.ok].sort(), [false, true], `round ${round}: exactly one writer wins`);
      assert.deepEqual(a!.ok ? b : a, { ok: false, error: 'GenerationConflictError' });
      const table = await client.listRules();
      assert.equal(table.generation, generations[round]! + 1n);
      assert.deepEqual(keys(table.rules), a!.ok ? expectA : expectB, 'the table is exactly the winner\'s outcome');
      wins[a!.ok ? 'a' : 'b']++;
      await client.apply({ expectedGeneration: table.generation, remove: table.rules.map((r) => r.id), add: base });
    }
    await Promise.all(writers.map((w) => w.exited));
    t.diagnostic(`wins: ${JSON.stringify(wins)}`);
  });
});
