import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Alert, Log, Message } from '../../../proto/gen/feeder.js';
import { encodeAlert, encodeLog, encodeMessage } from './encode.js';

const str = fc.oneof(fc.constant(''), fc.string(), fc.string({ unit: 'grapheme' }), fc.constant('C:\\Windows\\System32\\cmd.exe'));
const i32 = fc.oneof(fc.constant(0), fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }));
const i64 = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 2 ** 40 }), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 40), max: -1 }), fc.constant(Number.MIN_SAFE_INTEGER));
const owner = fc.option(fc.record({ Ref: str, Name: str, Namespace: str }), { nil: undefined });
const exec = fc.option(fc.record({ ExecID: str, ExecutableName: str }), { nil: undefined });
const map = fc.dictionary(fc.string(), str, { maxKeys: 4 });

void test('fast Alert encoder writes exactly the generated encoder\'s bytes', () => {
  fc.assert(fc.property(fc.record({
    Timestamp: i64, UpdatedTime: str, HostName: str, HostPID: i32, PPID: i32, UID: i32, PolicyName: str, Severity: str,
    ATags: fc.array(str, { maxLength: 4 }), Owner: owner, ExecEvent: exec, EventData: map, UserName: str, Resource: str, HostPPID: i32,
    MaxAlertsPerSec: i32,
  }), (partial) => {
    const alert = Alert.fromPartial(partial);
    const fast = encodeAlert(alert);
    assert.deepEqual([...fast], [...Alert.encode(alert).finish()]);
    assert.deepEqual(Alert.decode(fast), alert);
  }), { numRuns: 400 });
});

void test('fast Log and Message encoders match the generated ones', () => {
  fc.assert(fc.property(fc.record({ Timestamp: i64, Type: str, Source: str, HostPID: i32, Owner: owner, ExecEvent: exec, EventData: map, UserName: str }), (partial) => {
    const log = Log.fromPartial(partial);
    assert.deepEqual([...encodeLog(log)], [...Log.encode(log).finish()]);
  }), { numRuns: 300 });
  fc.assert(fc.property(fc.record({ Timestamp: i64, UpdatedTime: str, HostIP: str, Level: str, Message: str }), (partial) => {
    const m = Message.fromPartial(partial);
    assert.deepEqual([...encodeMessage(m)], [...Message.encode(m).finish()]);
  }), { numRuns: 300 });
});
