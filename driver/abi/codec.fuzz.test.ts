import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AbiDecodeError, decodeAddRules, decodeApplyRequest, decodeApplyResult, decodeEventMessage, decodeListRequest,
  decodeListResponse, decodeRemoveRules, decodeSetConfig, decodeState, encodeAddRules, encodeApplyRequest,
  encodeEventMessage, encodeListResponse,
} from './codec.js';
import { Decision, EventType, MatchType, RuleAction, RuleKind, type DriverEvent, type DriverRule } from './types.js';

const decoders: Record<string, (b: Uint8Array) => unknown> = {
  decodeAddRules, decodeApplyRequest, decodeApplyResult, decodeEventMessage, decodeListRequest, decodeListResponse,
  decodeRemoveRules, decodeSetConfig, decodeState,
};

/** Decoding either succeeds or throws AbiDecodeError: nothing else, no hang. */
function decodesOrRejects(decode: (b: Uint8Array) => unknown, bytes: Uint8Array): void {
  try {
    decode(bytes);
  } catch (error) {
    assert.ok(error instanceof AbiDecodeError, `unexpected ${String(error)}`);
  }
}

const str = fc.string({ unit: 'binary', maxLength: 40 });
const ruleArb: fc.Arbitrary<DriverRule> = fc.record({
  id: fc.bigInt({ min: 1n, max: 2n ** 64n - 1n }),
  kind: fc.constantFrom(RuleKind.Process, RuleKind.File),
  action: fc.constantFrom(RuleAction.Allow, RuleAction.Audit, RuleAction.Block),
  flags: fc.nat(),
  target: fc.record({ path: str.filter((s) => s.length > 0), match: fc.constantFrom(MatchType.Exact, MatchType.Glob) }),
});
const eventArb: fc.Arbitrary<DriverEvent> = fc.record({
  type: fc.constantFrom(EventType.FileOpen, EventType.ProcessCreate), decision: fc.constantFrom(Decision.Allow, Decision.Block),
  time: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), ruleId: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
  processId: fc.nat(), parentProcessId: fc.nat(), threadId: fc.nat(), status: fc.nat(), desiredAccess: fc.nat(),
  sessionId: fc.nat(), newProcessId: fc.nat(), targetPath: str, imagePath: str, parentImagePath: str, commandLine: str,
  userSid: str, currentDirectory: str,
});
/** Valid encodings, to be truncated and mutated. */
const validMessages = fc.oneof(
  fc.array(ruleArb, { maxLength: 5 }).map((r) => ({ bytes: encodeAddRules(r), decode: decodeAddRules })),
  fc.array(ruleArb, { maxLength: 5 }).map((r) => ({ bytes: encodeApplyRequest(1n, [2n], r), decode: decodeApplyRequest })),
  fc.array(ruleArb, { maxLength: 5 }).map((r) => ({
    bytes: encodeListResponse({ generation: 1n, nextCursor: 1n, totalRules: r.length, requiredSize: 0, more: false, rules: r }),
    decode: decodeListResponse,
  })),
  fc.array(eventArb, { maxLength: 5 }).map((e) => ({
    bytes: encodeEventMessage({ dropped: 0n, firstSequence: 1n, events: e }), decode: decodeEventMessage,
  })),
);

void describe('decoder fuzzing', () => {
  void it('random bytes never crash a decoder', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 512 }), fc.constantFrom(...Object.values(decoders)), (bytes, decode) => {
      decodesOrRejects(decode, bytes);
    }), { numRuns: 3000 });
  });

  void it('valid messages still decode; truncated ones are rejected', () => {
    fc.assert(fc.property(validMessages, fc.nat(), ({ bytes, decode }, cut) => {
      decode(bytes);
      const keep = cut % bytes.byteLength;
      assert.throws(() => decode(bytes.subarray(0, keep)), AbiDecodeError);
    }), { numRuns: 500 });
  });

  void it('mutated valid messages decode or are rejected', () => {
    const mutation = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 });
    fc.assert(fc.property(validMessages, mutation, ({ bytes, decode }, edits) => {
      const copy = bytes.slice();
      for (const [at, value] of edits) copy[at % copy.byteLength] = value;
      decodesOrRejects(decode, copy);
    }), { numRuns: 2000 });
  });

  void it('a huge record count with a tiny buffer is rejected at once', () => {
    const bytes = encodeAddRules([]);
    new DataView(bytes.buffer).setUint32(8, 0xffffffff, true);
    assert.throws(() => decodeAddRules(bytes), AbiDecodeError);
  });
});
