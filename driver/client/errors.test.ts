// Every row of driver-abi.md's error table, as the client maps it: real failures where
// the emulator can produce them, injected IOCTL faults for the rest.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startEmulator } from '../../test/emulator.js';
import { encodeGetState } from '../abi/codec.js';
import { EMULATOR_LIBRARY } from '../emulator/index.js';
import { IOCTL, MatchType, RuleAction, RuleKind, WIN32, type DriverRule } from '../abi/types.js';
import { loadBinding } from '../win32/index.js';
import { DriverClient } from './client.js';
import {
  BufferTooSmallError, DriverError, DriverIoError, DriverNotLoadedError, errorFromHresult, GenerationConflictError,
  MalformedRequestError, NotElevatedError, PortConnectionLimitError, PortDisconnectedError, RequestCancelledError,
  RuleQuotaExceededError, UnknownIoctlError,
} from './errors.js';

const rule = (id: number): DriverRule =>
  ({ id: BigInt(id), kind: RuleKind.File, action: RuleAction.Block, flags: 0, target: { path: `\\r${id}`, match: MatchType.Exact } });

void describe('error mapping', () => {
  void it('no daemon: DriverNotLoadedError from CreateFileW', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kawin-none-'));
    try {
      const binding = loadBinding({ library: EMULATOR_LIBRARY });
      await assert.rejects(DriverClient.open({ binding, device: join(dir, 'Karmor'), port: join(dir, 'KarmorPort') }), (e: unknown) =>
        e instanceof DriverNotLoadedError && e.operation === 'CreateFileW' && e.win32Error === WIN32.fileNotFound);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const injected: Array<[number, new (...a: never[]) => DriverError]> = [
    [WIN32.accessDenied, NotElevatedError],
    [WIN32.invalidFunction, UnknownIoctlError],
    [WIN32.invalidParameter, MalformedRequestError],
    [WIN32.insufficientBuffer, BufferTooSmallError],
    [WIN32.revisionMismatch, GenerationConflictError],
    [WIN32.notEnoughQuota, RuleQuotaExceededError],
    [WIN32.operationAborted, RequestCancelledError],
    [0, DriverIoError], // the emulator's default fault: ERROR_GEN_FAILURE
  ];
  for (const [win32, Class] of injected) {
    void it(`an APPLY failing with Win32 error ${win32 || WIN32.genFailure} is a ${Class.name}`, async (t) => {
      const emu = await startEmulator(t);
      const errors: Error[] = [];
      const client = await emu.client({ observer: { ioctl: (_op, _s, e) => e && errors.push(e) } });
      emu.machine.injectFault('APPLY', 1, win32);
      await assert.rejects(client.apply({ expectedGeneration: 0n, remove: [], add: [rule(1)] }), (e: unknown) =>
        e instanceof Class && e instanceof DriverError && e.operation === 'APPLY' && e.win32Error === (win32 || WIN32.genFailure));
      assert.equal(errors.length, 1);
      assert.equal((await client.apply({ expectedGeneration: 0n, remove: [], add: [rule(1)] })).generation, 1n, 'only the next call failed');
    });
  }

  void it('a fault on one IOCTL leaves the others alone', async (t) => {
    const emu = await startEmulator(t);
    const client = await emu.client();
    emu.machine.injectFault('LIST_RULES', 2, WIN32.accessDenied);
    assert.equal((await client.getState()).generation, 0n);
    await assert.rejects(client.listRules(), NotElevatedError);
  });

  void it('a real malformed input and a real unknown IOCTL', async (t) => {
    const emu = await startEmulator(t);
    const { handle } = emu.binding.openDevice(emu.device);
    assert.ok(handle !== null);
    t.after(() => emu.binding.closeHandle(handle));
    const garbage = new Uint8Array(40).fill(0xab);
    assert.equal(emu.binding.deviceIoControl(handle, IOCTL.APPLY, garbage, new Uint8Array(24)).error, WIN32.invalidParameter);
    const unknown = (IOCTL.APPLY + 0x40) >>> 0;
    assert.equal(emu.binding.deviceIoControl(handle, unknown, encodeGetState(), new Uint8Array(64)).error, WIN32.invalidFunction);
  });

  void it('the rule quota', async (t) => {
    const client = await (await startEmulator(t, { maxRules: 3 })).client();
    await client.addRules([rule(1), rule(2)]);
    await assert.rejects(client.addRules([rule(3), rule(4)]), RuleQuotaExceededError);
    assert.equal((await client.getState()).ruleCount, 2, 'all or nothing');
  });

  void it('a second port connection: PortConnectionLimitError', async (t) => {
    const emu = await startEmulator(t);
    const first = (await emu.client()).events()[Symbol.asyncIterator](); // connects at once
    const second = await emu.client();
    await assert.rejects(second.events()[Symbol.asyncIterator]().next(), (e: unknown) =>
      e instanceof PortConnectionLimitError && e.hresult === 0x800704d6);
    await first.return!();
  });

  void it('HRESULTs of the port calls map like their Win32 errors', () => {
    assert.ok(errorFromHresult('FilterGetMessage', 0x80070006) instanceof PortDisconnectedError);
    assert.ok(errorFromHresult('FilterGetMessage', 0x800703e3) instanceof RequestCancelledError);
    assert.ok(errorFromHresult('FilterConnectCommunicationPort', 0x80070002) instanceof DriverNotLoadedError);
    assert.ok(errorFromHresult('FilterConnectCommunicationPort', 0x80070005) instanceof NotElevatedError);
    const other = errorFromHresult('FilterGetMessage', 0x8000ffff);
    assert.ok(other instanceof DriverIoError && other.hresult === 0x8000ffff && /0x8000FFFF/.test(other.message));
  });
});
