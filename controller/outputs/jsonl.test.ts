import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonLine } from './jsonl.js';

void test('a record becomes one JSON line without empty fields, in field order', () => {
  const line = jsonLine({
    Timestamp: 1795255200, UpdatedTime: '2026-11-21T10:00:00.123456Z', NamespaceName: '', HostPID: 42, PPID: 0,
    PolicyName: 'block "secrets"', ATags: ['a', 'b'], Owner: undefined, EventData: {}, Labels: '', Resource: 'C:\\x\ny',
  });
  assert.equal(line.endsWith('}\n'), true);
  assert.equal(line.indexOf('\n'), line.length - 1, 'exactly one line even with a newline in a value');
  assert.deepEqual(Object.keys(JSON.parse(line)), ['Timestamp', 'UpdatedTime', 'HostPID', 'PolicyName', 'ATags', 'Resource']);
  assert.deepEqual(JSON.parse(line), {
    Timestamp: 1795255200, UpdatedTime: '2026-11-21T10:00:00.123456Z', HostPID: 42, PolicyName: 'block "secrets"',
    ATags: ['a', 'b'], Resource: 'C:\\x\ny',
  });
  assert.equal(jsonLine({ EventData: { k: 'v' } }), '{"EventData":{"k":"v"}}\n');
  assert.equal(jsonLine({ A: '' }), '{}\n');
});
