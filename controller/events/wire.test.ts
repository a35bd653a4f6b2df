import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Alert, Log, Message } from '../../proto/gen/feeder.js';
import { RecordBuilder } from './build.js';
import { DriveMap, driverEvent, lookup } from './test-fixtures.js';
import { ALERT_FIELDS, encodeAlert, encodeLog, encodeMessage, LOG_FIELDS, MESSAGE_FIELDS } from './wire.js';

const generated = <T>(codec: { encode(m: T): { finish(): Uint8Array } }, m: T): Buffer => Buffer.from(codec.encode(m).finish());

/** Every field of a message set to a distinct non-default value. */
function full(fields: typeof ALERT_FIELDS, seed: number): Record<string, unknown> {
  const r: Record<string, unknown> = {};
  for (const [n, kind, key] of fields) {
    if (kind === 's') r[key] = n % 3 === 0 ? `ünïcödé ${key} ✓ ${seed}` : `${key}-${seed}-${'x'.repeat(n * 7)}`;
    if (kind === 'i') r[key] = n % 2 === 0 ? -n * seed : n * 1_000_003 * seed;
    if (kind === 'r') r[key] = ['a', 'ß', '', `t${seed}`];
    if (kind === 'o') r[key] = key === 'Owner' ? { Ref: 'Deployment', Name: 'web', Namespace: 'prod' } : { ExecID: '42', ExecutableName: 'cmd.exe' };
    if (kind === 'm') r[key] = { k1: 'v1', 'ключ': 'значение', empty: '' };
  }
  return r;
}

void test('the fast encoder writes exactly the bytes of the generated encoder, every field', () => {
  for (const seed of [1, 2, 7]) {
    const a = Alert.fromPartial(full(ALERT_FIELDS, seed));
    assert.ok(encodeAlert(a).equals(generated(Alert, a)), `alert seed ${seed}`);
    assert.deepEqual(Alert.decode(encodeAlert(a)), a);
    const l = Log.fromPartial(full(LOG_FIELDS, seed));
    assert.ok(encodeLog(l).equals(generated(Log, l)), `log seed ${seed}`);
    const m = Message.fromPartial(full(MESSAGE_FIELDS, seed));
    assert.ok(encodeMessage(m).equals(generated(Message, m)), `message seed ${seed}`);
  }
});

void test('defaults, empty nested messages, large and negative int64 match too', () => {
  const cases = [
    Alert.fromPartial({}),
    Alert.fromPartial({ Owner: { Ref: '', Name: '', Namespace: '' }, ExecEvent: { ExecID: '', ExecutableName: '' } }),
    Alert.fromPartial({ Timestamp: 2 ** 40 + 5, HostPID: 2 ** 31 - 1, UID: -1 }),
    Alert.fromPartial({ Timestamp: -11_644_473_600 }),
    Alert.fromPartial({ Resource: 'x'.repeat(70_000) }),
  ];
  for (const a of cases) assert.ok(encodeAlert(a).equals(generated(Alert, a)), JSON.stringify(a).slice(0, 120));
});

void test('records the pipeline builds encode identically', () => {
  const b = new RecordBuilder({
    hostName: 'win-node-1', clusterName: 'prod', paths: new DriveMap(), hostTelemetry: true, allowAlerts: false,
    provenance: lookup([{ ruleId: 0x1234n, action: 'Block', origins: [{ kind: 'KubeArmorHostPolicy', policy: 'p', severity: 5, tags: ['a', 'b'], message: 'm' }] }]),
  });
  for (let i = 0; i < 2000; i++) {
    const a = b.alert(driverEvent({ processId: i, targetPath: `\\Device\\HarddiskVolume3\\d\\f${i}.txt` }));
    assert.ok(encodeAlert(a).equals(generated(Alert, a)));
  }
  const l = b.log(driverEvent({ decision: 1, ruleId: 0n }));
  assert.ok(encodeLog(l).equals(generated(Log, l)));
});
