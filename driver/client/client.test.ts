import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startEmulator } from '../../test/emulator.js';
import { Flavor, LIMITS, MatchType, Posture, REPORT, RuleAction, RuleKind, type DriverRule } from '../abi/types.js';
import { GenerationConflictError, RequestTooLargeError, StaleHandleError } from './errors.js';

/** A listing as plain data (its records decoded). */
const plain = (t: { generation: bigint; rules: unknown[] }) => ({ generation: t.generation, rules: t.rules });

const drives = { 'C:': '\\Device\\HarddiskVolume3', 'D:': '\\Device\\HarddiskVolume30' };
const rule = (id: bigint, path: string, action = RuleAction.Block): DriverRule =>
  ({ id, kind: RuleKind.File, action, flags: 0, target: { path, match: MatchType.Exact } });

void describe('DriverClient against the emulator', () => {
  void it('reads the state of a freshly loaded driver', async (t) => {
    const emu = await startEmulator(t, { ringCapacity: 512 });
    const state = await (await emu.client()).getState();
    assert.equal(state.abiVersion, 2);
    assert.equal(state.flavor, Flavor.Windows);
    assert.equal(state.generation, 0n);
    assert.equal(state.ruleCount, 0);
    assert.equal(state.ringCapacity, 512);
    assert.equal(state.config.caseFold, true);
  });

  void it('apply, add and remove move the generation and report what changed', async (t) => {
    const client = await (await startEmulator(t)).client();
    const a = rule(1n, '\\Device\\HarddiskVolume3\\a');
    const b = rule(2n, '\\Device\\HarddiskVolume3\\b');
    assert.deepEqual(await client.apply({ expectedGeneration: 0n, remove: [], add: [a, b] }), { generation: 1n, added: 2, replaced: 0, removed: 0, missing: 0 });
    assert.deepEqual(await client.addRules([{ ...a, action: RuleAction.Audit }]), { generation: 2n, added: 0, replaced: 1, removed: 0, missing: 0 });
    assert.deepEqual(await client.removeRules([2n, 99n]), { generation: 3n, added: 0, replaced: 0, removed: 1, missing: 1 });
    assert.deepEqual(await client.removeRules([99n]), { generation: 3n, added: 0, replaced: 0, removed: 0, missing: 1 }, 'a write that changes nothing keeps the generation');
    assert.deepEqual(plain(await client.listRules()), { generation: 3n, rules: [{ ...a, action: RuleAction.Audit }] });
  });

  void it('the emulated kernel says when its table last moved, on the monotonic clock of this process', async (t) => {
    const emu = await startEmulator(t);
    const client = await emu.client();
    assert.deepEqual(emu.machine.tableChanged(), { generation: 0n, changedAtNs: 0n }, 'never since it loaded');
    const before = process.hrtime.bigint();
    await client.apply({ expectedGeneration: 0n, remove: [], add: [rule(1n, '\\Device\\HarddiskVolume3\\a')] });
    const after = process.hrtime.bigint();
    const first = emu.machine.tableChanged();
    assert.equal(first.generation, 1n);
    assert.ok(first.changedAtNs > before && first.changedAtNs < after, `${before} < ${first.changedAtNs} < ${after}`);
    await client.removeRules([99n]);
    assert.deepEqual(emu.machine.tableChanged(), first, 'a write that changes nothing does not move it');
  });

  void it('a stale expected generation is a conflict and changes nothing', async (t) => {
    const client = await (await startEmulator(t)).client();
    await client.addRules([rule(1n, '\\a')]);
    await assert.rejects(client.apply({ expectedGeneration: 0n, remove: [1n], add: [rule(2n, '\\b')] }), GenerationConflictError);
    assert.deepEqual(plain(await client.listRules()), { generation: 1n, rules: [rule(1n, '\\a')] });
  });

  void it('sets the config', async (t) => {
    const client = await (await startEmulator(t, { flavor: 'posix' })).client();
    const config = {
      caseFold: false, eventMask: REPORT.unmatchedFile | REPORT.processExit, processPosture: Posture.Block,
      filePosture: Posture.Audit, networkPosture: Posture.Block, registryPosture: Posture.Audit,
    };
    await client.setConfig(config);
    assert.deepEqual((await client.getState()).config, config);
  });

  void it('translates DOS and NT paths with the driver\'s drive map (windows flavour)', async (t) => {
    const client = await (await startEmulator(t, { drives })).client();
    assert.equal(client.paths.toDriver('C:\\Windows\\cmd.exe'), '\\Device\\HarddiskVolume3\\Windows\\cmd.exe');
    assert.equal(client.paths.toDriver('d:\\x'), '\\Device\\HarddiskVolume30\\x');
    assert.equal(client.paths.fromDriver('\\device\\harddiskvolume30\\x'), 'D:\\x');
    assert.equal(client.paths.fromDriver('\\Device\\HarddiskVolume3\\x'), 'C:\\x');
  });

  void it('writes the DOS paths of an APPLY as NT paths, small or large (windows flavour)', async (t) => {
    const client = await (await startEmulator(t, { drives })).client();
    const dos = (i: number): DriverRule => ({ ...rule(BigInt(i + 1), `C:\\Apps\\a${i}.exe`), source: { path: `d:\\t${i}.exe`, match: MatchType.Exact } });
    await client.apply({ expectedGeneration: 0n, remove: [], add: [dos(0)] });
    assert.deepEqual((await client.listRules()).rules.map((r) => [r.target.path, r.source?.path]), [['\\Device\\HarddiskVolume3\\Apps\\a0.exe', '\\Device\\HarddiskVolume30\\t0.exe']]);
    const many = Array.from({ length: 20_000 }, (_, i) => dos(i));
    await client.apply({ expectedGeneration: 1n, remove: [], add: many });
    const table = await client.listRules();
    assert.equal(table.records.length, many.length);
    const toDriver = (p: string): ReturnType<typeof client.paths.toDriverParts> => client.paths.toDriverParts(p);
    assert.ok(many.every((r, i) => table.records.matches(i, r, toDriver)), 'each record is its DOS rule in NT form');
    assert.equal(table.records.matches(0, many[0]!), false, 'and not the DOS rule as written');
    // Released: its pages go back to the IOCTL thread, which fills them with the next listing.
    table.release();
    assert.throws(() => table.records.length, /read after release/);
    const again = await client.listRules();
    assert.ok(many.every((r, i) => again.records.matches(i, r, toDriver)), 'a listing into reused pages reads the same table');
  });

  void it('uses paths as they are on the posix flavour', async (t) => {
    const client = await (await startEmulator(t, { flavor: 'posix' })).client();
    assert.equal(client.paths.toDriver('/etc/passwd'), '/etc/passwd');
    assert.equal(client.paths.fromDriver('C:\\x'), 'C:\\x');
  });

  void it('rejects an APPLY above the input limit before sending anything', async (t) => {
    const calls: string[] = [];
    const client = await (await startEmulator(t)).client({ observer: { ioctl: (op) => calls.push(op) } });
    const long = 'x'.repeat(LIMITS.maxPathBytes / 2);
    const add = Array.from({ length: Math.ceil(LIMITS.maxIoctlInput / LIMITS.maxPathBytes) + 1 }, (_, i) => rule(BigInt(i + 1), long));
    calls.length = 0;
    await assert.rejects(client.apply({ expectedGeneration: 0n, remove: [], add }), (e: unknown) =>
      e instanceof RequestTooLargeError && /KAWIN_MAX_IOCTL_INPUT/.test(e.message));
    assert.deepEqual(calls, []);
  });

  void it('tells the observer about every IOCTL', async (t) => {
    const seen: Array<[string, boolean]> = [];
    const client = await (await startEmulator(t)).client({ observer: { ioctl: (op, s, e) => seen.push([op, s >= 0 && e === undefined]) } });
    await client.addRules([rule(1n, '\\a')]);
    await client.listRules();
    await assert.rejects(client.apply({ expectedGeneration: 7n, remove: [], add: [] }));
    assert.deepEqual(seen.slice(-3).map(([op, ok]) => `${op}:${ok}`), ['ADD_RULES:true', 'LIST_RULES:true', 'APPLY:false']);
  });

  void it('after a driver reload, reads reopen the device; a write surfaces StaleHandleError once', async (t) => {
    const emu = await startEmulator(t);
    const client = await emu.client();
    await client.addRules([rule(1n, '\\a')]);
    emu.machine.reload();
    assert.equal((await client.getState()).generation, 0n, 'read-only call retried on a fresh handle');
    emu.machine.reload();
    await assert.rejects(client.addRules([rule(2n, '\\b')]), StaleHandleError);
    assert.equal((await client.addRules([rule(2n, '\\b')])).generation, 1n, 'the handle was reopened');
  });
});
