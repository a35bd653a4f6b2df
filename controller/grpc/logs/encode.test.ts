import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Alert, Log, Message } from '../../../proto/gen/feeder.js';
import { encodeAlert, encodeLog, encodeMessage } from './encode.js';
import { FrameBatch, messagesOf } from '../stream/frames.js';

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

/**
 * Runs of repeated fields are copied from the previous message's bytes (encode.ts): the
 * output must still be exactly the generated encoder's, message after message, whichever
 * fields repeat and whichever change (values drawn from small pools, so both happen).
 */
void test('message after message, repeated and changed fields encode exactly as the generated encoder does', () => {
  const pool = <T>(...xs: T[]) => fc.constantFrom(...xs);
  const path = pool('C:\\Windows\\System32\\cmd.exe', 'C:\\Users\\Zoë\\文件 ✓.txt', 'C:\\Program Files\\😀\\a.exe', '');
  const alert = fc.record({
    Timestamp: pool(0, 1795255200, 2 ** 40), UpdatedTime: pool('2026-11-21T10:00:00.123456Z', '2026-11-21T10:00:00.123457Z'),
    ClusterName: pool('default', 'clüster'), HostName: pool('node-a', 'node-b'), HostPID: pool(0, 7000, -1), UID: pool(0, 18),
    PolicyName: pool('p-1', 'p-2'), Severity: pool('5', ''), Tags: pool('a,b', ''), Source: path, Resource: path, ProcessName: path,
    ATags: pool([], ['a'], ['a', 'b'], ['b', 'a'], ['ü', '文']), EventData: pool<Record<string, string>>({}, { Access: 'READ_DATA' }, Object.freeze({ Access: 'WRITE_DATA' }), Object.freeze({ Ünï: 'cödé' })),
    Owner: pool(undefined, { Ref: 'r', Name: 'n', Namespace: 'ns' }), UserName: pool('NT AUTHORITY\\SYSTEM', 'DOMAIN\\Jürgen'),
  });
  const batch = new FrameBatch(64);
  fc.assert(fc.property(fc.array(alert, { minLength: 1, maxLength: 40 }), (partials) => {
    for (const partial of partials) {
      const a = Alert.fromPartial(partial);
      const expected = [...Alert.encode(a).finish()];
      assert.deepEqual([...encodeAlert(a)], expected);
      encodeAlert.frameInto(a, batch);
      const framed = [...messagesOf(batch.take())];
      assert.equal(framed.length, 1);
      assert.deepEqual([...framed[0]!], expected);
    }
  }), { numRuns: 300 });
});

void test('a list or map changed in place after a message is encoded anew, not copied from before', () => {
  const tags = ['a', 'b'];
  const data: Record<string, string> = { Access: 'READ_DATA' };
  const a = Alert.fromPartial({ ClusterName: 'c', Severity: '5', UserName: 'u' });
  Object.assign(a, { ATags: tags, EventData: data });
  for (let round = 0; round < 3; round++) {
    assert.deepEqual([...encodeAlert(a)], [...Alert.encode(a).finish()], `round ${round}`);
    tags.push(`t${round}`);
    data.Access = `A${round}`;
    data[`K${round}`] = 'v';
  }
  const decoded = Alert.decode(encodeAlert(a));
  assert.deepEqual(decoded.ATags, tags);
  assert.deepEqual(decoded.EventData, data);
});

void test('the same values in new objects (a new message each time) still encode exactly', () => {
  for (let i = 0; i < 5; i++) {
    const a = Alert.fromPartial({ ClusterName: `clu${'s'.repeat(i % 2)}ter`, ATags: ['x', `y${i % 2}`], EventData: { K: `v${i % 2}` }, HostPID: i });
    assert.deepEqual([...encodeAlert(a)], [...Alert.encode(a).finish()]);
    const l = Log.fromPartial({ ClusterName: a.ClusterName, EventData: a.EventData, HostPID: i, Resource: `r${i}` });
    assert.deepEqual([...encodeLog(l)], [...Log.encode(l).finish()]);
  }
});
