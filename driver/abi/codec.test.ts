import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  AbiDecodeError, AbiEncodeError, decodeAddRules, decodeApplyRequest, decodeApplyResult, decodeEventMessage,
  decodeListRequest, decodeListResponse, decodeRemoveRules, decodeSetConfig, decodeState, encodeAddRules,
  encodeApplyRequest, encodeApplyResult, encodeEventMessage, encodeListRequest, encodeListResponse, encodeRemoveRules,
  encodeSetConfig, encodeState, filetimeToUnixMs, unixMsToFiletime, encodeRuleAt, ruleSize, AS_IS_PARTS, type DriverPathParts,
} from './codec.js';
import {
  Decision, EventType, Flavor, MatchType, Posture, RuleAction, RuleKind,
  type DriverConfig, type DriverEvent, type DriverRule, type DriverState,
} from './types.js';
import { APPLY_REQUEST, HEADER } from './layout.js';

const rule = (id: bigint, path: string, extra: Partial<DriverRule> = {}): DriverRule => ({
  id, kind: RuleKind.File, action: RuleAction.Block, flags: 0, target: { path, match: MatchType.Exact }, ...extra,
});
const rules: DriverRule[] = [
  rule(1n, '\\Device\\HarddiskVolume3\\secret.txt'),
  rule(0xffff_ffff_ffff_ffffn, 'C:\\dir\\', { target: { path: '\\Device\\X\\dir\\', match: MatchType.Directory }, flags: 1 }),
  rule(7n, '/etc/**/*.conf', {
    kind: RuleKind.Process, action: RuleAction.Allow, target: { path: '/etc/**/*.conf', match: MatchType.Glob },
    source: { path: '/usr/bin/bash', match: MatchType.Exact },
  }),
  rule(9n, 'ünïcödé \u{1F600} \uD800 lone surrogate'),
];
const config: DriverConfig = {
  caseFold: true, eventMask: 0xf, processPosture: Posture.Block, filePosture: Posture.Audit,
  networkPosture: Posture.Audit, registryPosture: Posture.Block,
};
const event = (i: number): DriverEvent => ({
  type: EventType.FileOpen, decision: Decision.Block, time: 133_000_000_000_000_000n + BigInt(i), ruleId: BigInt(i + 1),
  processId: 100 + i, parentProcessId: 4, threadId: 9, status: 0xc0000022, desiredAccess: 0x2, sessionId: i, newProcessId: i * 4,
  targetPath: `\\Device\\HarddiskVolume3\\f${i}.txt`, imagePath: '\\Device\\HarddiskVolume3\\cmd.exe',
  parentImagePath: i % 3 ? '\\Device\\HarddiskVolume3\\Windows\\explorer.exe' : '',
  commandLine: i % 2 ? 'cmd /c echo ✓' : '', userSid: 'S-1-5-18', currentDirectory: i % 2 ? 'C:\\Users\\ü\\' : '',
});

void describe('codec round trips', () => {
  void it('APPLY request keeps removals, additions and the expected generation', () => {
    const bytes = encodeApplyRequest(42n, [3n, 4n], rules);
    assert.equal(bytes.byteLength % 8, 0);
    assert.deepEqual(decodeApplyRequest(bytes), { expectedGeneration: 42n, remove: [3n, 4n], add: rules });
  });
  void it('a bulk APPLY (over 64 KiB: paths written natively) encodes as a small one does, lone surrogates included', () => {
    const many = Array.from({ length: 2000 }, (_, i) => ({ ...rules[i % rules.length]!, id: BigInt(i + 1) }));
    const bytes = encodeApplyRequest(7n, [], many);
    assert.ok(bytes.byteLength > 64 * 1024);
    assert.deepEqual(decodeApplyRequest(bytes).add, many);
    // Byte for byte the records of messages too small for the native path (one rule each).
    const small = many.map((r) => encodeAddRules([r]).subarray(HEADER.size));
    assert.ok(Buffer.from(bytes.subarray(APPLY_REQUEST.size)).equals(Buffer.concat(small)));
  });
  void it('a large APPLY (paths written natively) with DOS paths mapped to device paths writes each rule as a small message does', () => {
    // Two drives (the prefix written changes between rules), a path that keeps its form, sources mapped or not,
    // verbatim paths (`\\?\C:`: six units replaced), one of them by a device shorter than what it replaces.
    const parts = (path: string): DriverPathParts => /^[Cc]:/.test(path) ? { prefix: '\\Device\\HarddiskVolume3', skip: 2 }
      : /^[Dd]:/.test(path) ? { prefix: '\\Device\\HarddiskVolume12', skip: 2 }
        : /^\\\\\?\\C:/.test(path) ? { prefix: '\\Device\\HarddiskVolume3', skip: 6 }
          : /^\\\\\?\\E:/.test(path) ? { prefix: '\\E', skip: 6 } : AS_IS_PARTS;
    const paths = ['C:\\Apps\\a.exe', 'd:\\Data\\ünï\\\uD800.txt', '\\Device\\Mup\\srv\\x', 'C:\\', 'D:\\odd\\len',
      '\\\\?\\C:\\Program Files\\v.exe', '\\\\?\\E:\\short\\prefix\\w.exe'];
    const many = Array.from({ length: 3000 }, (_, i) => rule(BigInt(i + 1), paths[i % paths.length]!, {
      flags: i % 2, action: [RuleAction.Allow, RuleAction.Audit, RuleAction.Block][i % 3]!,
      ...(i % 4 === 0 ? { source: { path: paths[(i + 1) % paths.length]!, match: MatchType.Exact } } : {}),
    }));
    const bytes = encodeApplyRequest(7n, [5n], many, parts);
    assert.ok(bytes.byteLength > 64 * 1024);
    const alone = many.map((r) => {
      const one = new Uint8Array(ruleSize(r, parts));
      assert.equal(encodeRuleAt(new DataView(one.buffer), 0, r, parts), one.byteLength);
      return one;
    });
    assert.ok(Buffer.from(bytes.subarray(APPLY_REQUEST.size + 8)).equals(Buffer.concat(alone)));
    const decoded = decodeApplyRequest(bytes).add;
    assert.equal(decoded[0]!.target.path, '\\Device\\HarddiskVolume3\\Apps\\a.exe');
    assert.equal(decoded[1]!.target.path, '\\Device\\HarddiskVolume12\\Data\\ünï\\\uD800.txt');
    assert.equal(decoded[2]!.target.path, paths[2]);
    assert.equal(decoded[5]!.target.path, '\\Device\\HarddiskVolume3\\Program Files\\v.exe');
    assert.equal(decoded[6]!.target.path, '\\E\\short\\prefix\\w.exe');
  });
  void it('ADD_RULES and REMOVE_RULES', () => {
    assert.deepEqual(decodeAddRules(encodeAddRules(rules)), rules);
    assert.deepEqual(decodeRemoveRules(encodeRemoveRules([1n, 2n ** 64n - 1n])), [1n, 2n ** 64n - 1n]);
  });
  void it('apply result, list request and list page', () => {
    const result = { generation: 5n, added: 1, replaced: 2, removed: 3, missing: 4 };
    assert.deepEqual(decodeApplyResult(encodeApplyResult(result)), result);
    assert.equal(decodeListRequest(encodeListRequest(99n)), 99n);
    const page = { generation: 3n, nextCursor: 9n, totalRules: 10, requiredSize: 0, more: true, rules };
    assert.deepEqual(decodeListResponse(encodeListResponse(page)), page);
  });
  void it('config and state', () => {
    assert.deepEqual(decodeSetConfig(encodeSetConfig(config)), config);
    const state: DriverState = {
      abiVersion: 2, flavor: Flavor.Posix, generation: 12n, ruleCount: 3, portConnected: true, eventsEmitted: 100n,
      eventsDropped: 7n, ringCapacity: 8192, ringUsed: 5, config,
    };
    assert.deepEqual(decodeState(encodeState(state)), state);
  });
  void it('event message with every string kind', () => {
    const batch = { dropped: 3n, firstSequence: 17n, events: [event(0), event(1), event(2)] };
    assert.deepEqual(decodeEventMessage(encodeEventMessage(batch, 77n)), { ...batch, messageId: 77n });
  });
  void it('decodes from a misaligned view', () => {
    const bytes = encodeEventMessage({ dropped: 0n, firstSequence: 1n, events: [event(1)] });
    const shifted = new Uint8Array(bytes.byteLength + 1);
    shifted.set(bytes, 1);
    assert.deepEqual(decodeEventMessage(shifted.subarray(1)).events, [event(1)]);
  });
  void it('FILETIME <-> Unix milliseconds', () => {
    assert.equal(filetimeToUnixMs(116444736000000000n), 0);
    assert.equal(filetimeToUnixMs(unixMsToFiletime(1_700_000_000_123)), 1_700_000_000_123);
  });
});

void describe('decoders reject what is not the ABI', () => {
  const expectDecodeError = (fn: () => unknown, pattern: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof AbiDecodeError && pattern.test(e.message));

  void it('says which record, where and what', () => {
    const bytes = encodeAddRules([rules[0]!]);
    bytes[16 + 4] = 9; // Kind of the first rule
    expectDecodeError(() => decodeAddRules(bytes), /KAWIN_RULE at byte 16: Kind 9/);
  });
  void it('a record size that runs past the end', () => {
    const bytes = encodeAddRules([rules[0]!]);
    new DataView(bytes.buffer).setUint32(16, 4096, true);
    expectDecodeError(() => decodeAddRules(bytes), /runs past the end/);
  });
  void it('a truncated event message', () => {
    const bytes = encodeEventMessage({ dropped: 0n, firstSequence: 1n, events: [event(0)] });
    expectDecodeError(() => decodeEventMessage(bytes.subarray(0, bytes.byteLength - 8)), /TotalSize/);
  });
  void it('an event count that cannot fit', () => {
    const bytes = encodeEventMessage({ dropped: 0n, firstSequence: 1n, events: [event(0)] });
    new DataView(bytes.buffer).setUint32(16 + 4, 1_000_000, true);
    expectDecodeError(() => decodeEventMessage(bytes), /RecordCount 1000000/);
  });
  void it('a wrong ABI version', () => {
    const bytes = encodeListResponse({ generation: 1n, nextCursor: 0n, totalRules: 0, requiredSize: 0, more: false, rules: [] });
    bytes[0] = 1;
    expectDecodeError(() => decodeListResponse(bytes), /Version 1, expected 2/);
  });
  void it('a posture that does not exist', () => {
    const bytes = encodeSetConfig(config);
    bytes[16 + 9] = 7;
    expectDecodeError(() => decodeSetConfig(bytes), /FilePosture 7/);
  });
});

void describe('encoders refuse what the driver cannot take', () => {
  void it('rule id 0, a path over the limit, an empty path', () => {
    assert.throws(() => encodeAddRules([rule(0n, 'x')]), AbiEncodeError);
    assert.throws(() => encodeAddRules([rule(1n, 'x'.repeat(32768))]), /exceed the limit of 65534/);
    assert.throws(() => encodeAddRules([rule(1n, '')]), AbiEncodeError);
  });
});
