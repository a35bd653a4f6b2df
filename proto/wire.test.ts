// Checks the generated code against protoc itself: bytes we encode are decoded by
// `protoc --decode` with the .proto files (field numbers, int64, map<string,string>),
// and `protoc --decode_raw` shows the exact field numbers upstream clients expect.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { Alert, Log, Message } from './gen/feeder.js';
import { StateEvent } from './gen/state_agent.js';
import { policy as PolicyMsg } from './gen/policy.js';

const root = new URL('..', import.meta.url).pathname;
const protoc = join(root, 'node_modules', 'protoc', 'protoc.cjs');

function protocDecode(bytes: Uint8Array, args: string[]): string {
  const r = spawnSync(process.execPath, [protoc, `-I${join(root, 'proto')}`, `-I${join(root, 'node_modules/protoc/include')}`, ...args], {
    input: Buffer.from(bytes),
    cwd: join(root, 'proto'),
  });
  assert.equal(r.status, 0, r.stderr.toString());
  return r.stdout.toString();
}

void test('Alert int64 Timestamp and map EventData encode as protoc decodes them', () => {
  const ts = 1_763_700_000; // Unix seconds, as upstream sends
  const bytes = Alert.encode(Alert.fromPartial({
    Timestamp: ts,
    UpdatedTime: '2025-11-21T04:40:00.123456Z',
    HostPID: 4242,
    ATags: ['NIST', 'CIS'],
    Owner: { Ref: 'Deployment', Name: 'web', Namespace: 'prod' },
    EventData: { key1: 'v1', 'k 2': 'ü' },
    UserName: 'SYSTEM',
  })).finish();
  const text = protocDecode(bytes, ['--decode=feeder.Alert', 'feeder.proto']);
  assert.match(text, new RegExp(`^Timestamp: ${ts}$`, 'm'));
  assert.match(text, /^HostPID: 4242$/m);
  assert.match(text, /^ATags: "NIST"\nATags: "CIS"$/m);
  assert.match(text, /EventData \{\n\s+key: "key1"\n\s+value: "v1"\n\}/);
  assert.match(text, /^UserName: "SYSTEM"$/m);
  const raw = protocDecode(bytes, ['--decode_raw']);
  assert.match(raw, new RegExp(`^1: ${ts}$`, 'm'));
  assert.match(raw, /^43 \{/m);
  assert.match(raw, /^44: "SYSTEM"$/m);
  assert.match(raw, /^31 \{\n\s+1: "Deployment"/m);
  const back = Alert.decode(bytes);
  assert.equal(back.Timestamp, ts);
  assert.deepEqual(back.EventData, { key1: 'v1', 'k 2': 'ü' });
});

void test('negative and large int64 round-trip; beyond 2^53 is refused, not truncated', () => {
  for (const v of [-1, 0, 2 ** 40, Number.MAX_SAFE_INTEGER]) {
    assert.equal(Message.decode(Message.encode(Message.fromPartial({ Timestamp: v })).finish()).Timestamp, v);
  }
  // field 1 varint 2^60 built by hand
  const big = Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
  assert.throws(() => Message.decode(big), /MAX_SAFE_INTEGER/);
});

void test('Log field numbers match the wire facts', () => {
  const bytes = Log.encode(Log.fromPartial({ Type: 'HostLog', HostPPID: 7, EventData: { a: 'b' }, UserName: 'u' })).finish();
  const raw = protocDecode(bytes, ['--decode_raw']);
  assert.match(raw, /^13: "HostLog"$/m);
  assert.match(raw, /^22: 7$/m);
  assert.match(raw, /^33 \{/m);
  assert.match(raw, /^34: "u"$/m);
});

void test('StateEvent Object is bytes; policy.policy is bytes', () => {
  const ev = StateEvent.encode({ Kind: 'node', Type: 'added', Name: 'n1', Object: Buffer.from('{"a":1}') }).finish();
  assert.match(protocDecode(ev, ['--decode=state_agent.StateEvent', 'state_agent.proto']), /Object: "\{\\"a\\":1\}"/);
  const p = PolicyMsg.encode({ policy: Buffer.from('{}') }).finish();
  assert.deepEqual([...p], [0x0a, 0x02, 0x7b, 0x7d]);
});
