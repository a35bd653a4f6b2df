import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MatchType, Posture, RuleAction, RuleKind, type DriverRule } from '../../driver/abi/types.js';
import type { DriverClient } from '../../driver/client/index.js';
import { MemoryLogger } from '../observability/index.js';
import { startEmulator, type EmulatorFixture } from '../../test/emulator.js';
import { Reconciler, type DesiredState } from './reconciler.js';
import type { RefusalCheck } from './admission.js';
import type { ReconcileMetrics } from './observe.js';

const VOLUME = '\\Device\\HarddiskVolume3';

function rule(id: number, path: string): DriverRule {
  return { id: BigInt(id), kind: RuleKind.File, action: RuleAction.Block, flags: 0, target: { path, match: MatchType.Exact } };
}

interface Setup {
  emulator: EmulatorFixture;
  driver: DriverClient;
  probe: DriverClient;
  reconciler: Reconciler;
  desired: Map<bigint, DriverRule>;
  refused: Record<RefusalCheck, number>;
  logger: MemoryLogger;
}

async function setup(t: Parameters<typeof startEmulator>[0], rules: DriverRule[]): Promise<Setup> {
  const emulator = await startEmulator(t);
  const driver = await emulator.client();
  const probe = await emulator.client();
  const desired = new Map(rules.map((r) => [r.id, r]));
  const state: DesiredState = {
    ready: () => true,
    waitingFor: () => [],
    driverConfig: () => ({
      caseFold: true, eventMask: 0, processPosture: Posture.Audit, filePosture: Posture.Audit,
      networkPosture: Posture.Audit, registryPosture: Posture.Audit,
    }),
    rules: () => desired,
  };
  const refused = { volume: 0, limit: 0, driver: 0 };
  const ignore = (): void => undefined;
  const metrics: ReconcileMetrics = {
    reconciled: ignore, conflicted: ignore, rulesDesired: ignore, rulesApplied: ignore, driftCorrected: ignore,
    rulesRefused: (counts) => Object.assign(refused, counts),
  };
  const logger = new MemoryLogger();
  const reconciler = new Reconciler({ desired: state, metrics, logger });
  reconciler.attach(driver);
  return { emulator, driver, probe, reconciler, desired, refused, logger };
}

const held = async (s: Setup): Promise<string[]> => (await s.probe.listRules()).rules.map((r) => r.target.path).sort();

void test('a rule the driver rejects is found by bisection; every other rule is applied', async (t) => {
  const good = Array.from({ length: 14 }, (_, i) => rule(100 + i, `C:\\data\\file${i}.txt`));
  // Not absolute once translated: the driver refuses it (ERROR_INVALID_PARAMETER), no node check can tell.
  const bad = [rule(105, 'relative\\one.txt'), rule(111, 'relative\\two.txt')];
  const s = await setup(t, [...good.filter((r) => r.id !== 105n && r.id !== 111n), ...bad]);
  const result = await s.reconciler.reconcile();
  assert.equal(result.outcome, 'applied');
  assert.equal(result.refused, 2);
  assert.equal(result.added, 12);
  assert.equal((await s.probe.listRules()).rules.length, 12);
  assert.ok(!(await held(s)).some((p) => p.includes('relative')));
  const refusal = s.reconciler.refusal(105n);
  assert.equal(refusal?.check, 'driver');
  assert.match(refusal!.reason, /rejected the rule: .*Win32 error 87/);
  assert.equal(refusal!.path, 'relative\\one.txt');
  assert.deepEqual(s.refused, { volume: 0, limit: 0, driver: 2 });
  assert.ok(s.reconciler.inSync, 'in sync without the refused rules');
  // The next pass has nothing to do: no retry storm against the driver.
  const generation = (await s.probe.getState()).generation;
  assert.equal((await s.reconciler.reconcile()).outcome, 'unchanged');
  assert.equal((await s.probe.getState()).generation, generation);
  // The refused rule changes (a new id) and is tried again.
  s.desired.delete(105n);
  s.desired.set(205n, rule(205, 'C:\\data\\fixed.txt'));
  s.reconciler.desiredChanged([105n, 205n]);
  assert.equal(s.reconciler.refusal(105n), undefined);
  assert.equal((await s.reconciler.reconcile()).outcome, 'applied');
  assert.ok((await held(s)).includes(`${VOLUME}\\data\\fixed.txt`));
  assert.deepEqual(s.refused, { volume: 0, limit: 0, driver: 1 });
});

void test('a rule on a volume the node lacks is refused before APPLY and applied once the volume is mounted', async (t) => {
  const s = await setup(t, [rule(1, 'C:\\data\\a.txt'), rule(2, 'Q:\\data\\b.txt'), rule(3, 'C:\\data\\c.txt')]);
  const result = await s.reconciler.reconcile();
  assert.equal(result.outcome, 'applied');
  assert.equal(result.refused, 0, 'the driver refused nothing: nothing it could not take was sent');
  assert.equal((await s.probe.getState()).generation, 1n, 'one APPLY');
  assert.deepEqual(await held(s), [`${VOLUME}\\data\\a.txt`, `${VOLUME}\\data\\c.txt`]);
  assert.equal(s.reconciler.refusal(2n)?.check, 'volume');
  assert.match(s.reconciler.refusal(2n)!.reason, /volume Q: is not present/);
  assert.deepEqual(s.refused, { volume: 1, limit: 0, driver: 0 });
  s.emulator.machine.mountVolume('Q:', '\\Device\\HarddiskVolume9');
  // The periodic resync reads the table (and the node's volumes) back.
  s.reconciler.requestReadBack();
  assert.equal((await s.reconciler.reconcile()).outcome, 'applied');
  assert.ok((await held(s)).includes('\\Device\\HarddiskVolume9\\data\\b.txt'));
  assert.equal(s.reconciler.refusal(2n), undefined);
  assert.deepEqual(s.refused, { volume: 0, limit: 0, driver: 0 });
  assert.ok(s.logger.records.some((r) => r.msg.includes("volumes changed")));
});

void test("a path over the driver's limit is refused before APPLY", async (t) => {
  const long = `C:\\${'x'.repeat(33_000)}`;
  const s = await setup(t, [rule(1, 'C:\\data\\a.txt'), rule(2, long)]);
  assert.equal((await s.reconciler.reconcile()).outcome, 'applied');
  assert.deepEqual(await held(s), [`${VOLUME}\\data\\a.txt`]);
  assert.equal(s.reconciler.refusal(2n)?.check, 'limit');
  assert.match(s.reconciler.refusal(2n)!.reason, /KAWIN_MAX_PATH_BYTES/);
});

void test('a transient rejection refuses nothing that passes on its own', async (t) => {
  const s = await setup(t, [rule(1, 'C:\\a'), rule(2, 'C:\\b'), rule(3, 'C:\\c'), rule(4, 'C:\\d')]);
  s.emulator.machine.injectFault('APPLY', 1, 87);
  const result = await s.reconciler.reconcile();
  assert.equal(result.refused, 0);
  assert.equal((await s.probe.listRules()).rules.length, 4);
  assert.equal(s.reconciler.refusals.size, 0);
});

void test('while a pass runs the reconciler says so (its generation and counts are in motion), and not after', async (t) => {
  const s = await setup(t, Array.from({ length: 3000 }, (_, i) => rule(i + 1, `C:\\data\\file${i}.txt`)));
  assert.equal(s.reconciler.passing, false);
  const pass = s.reconciler.reconcile();
  assert.equal(s.reconciler.passing, true);
  const result = await pass;
  assert.equal(result.outcome, 'applied');
  assert.equal(s.reconciler.passing, false);
  assert.equal(s.reconciler.rulesApplied, 3000);
  assert.equal((await s.probe.getState()).generation, s.reconciler.appliedGeneration);
});
