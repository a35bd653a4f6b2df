import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { connectionBudget, descriptorLimit, DescriptorBudgetError, parseDescriptorLimit } from './descriptors.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

void test('the soft descriptor limit is read from /proc/self/limits; unlimited or absent is no limit', () => {
  assert.equal(parseDescriptorLimit(LIMITS), 1024);
  assert.equal(parseDescriptorLimit(LIMITS.replace('1024   ', 'unlimited')), undefined);
  assert.equal(parseDescriptorLimit('nothing here'), undefined);
  if (process.platform === 'linux') {
    const shell = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' });
    assert.equal(descriptorLimit(), Number(shell.stdout.trim()), 'what a child of this process sees');
  }
});

const requested = { http: { maxConnections: 128, maxConnectionsPerPeer: 32 }, grpc: { maxConnections: 512, maxConnectionsPerPeer: 128 } };

void test('connection bounds that fit under the limit minus the reserve are kept', () => {
  const b = connectionBudget(requested, { limit: 20_000, reserved: 256 });
  assert.deepEqual(b.http, requested.http);
  assert.deepEqual(b.grpc, requested.grpc);
  assert.equal(b.lowered, false);
  assert.deepEqual(connectionBudget(requested, { limit: undefined, reserved: 256 }).grpc, requested.grpc, 'no limit to read: as configured');
});

void test('connection bounds are lowered, in proportion, to leave the reserve free; per-peer bounds follow', () => {
  const b = connectionBudget(requested, { limit: 576, reserved: 256 });
  assert.equal(b.lowered, true);
  assert.ok(b.http!.maxConnections + b.grpc.maxConnections <= 576 - 256, `${b.http!.maxConnections} + ${b.grpc.maxConnections} within 320`);
  assert.equal(b.http!.maxConnections, 64);
  assert.equal(b.grpc.maxConnections, 256);
  assert.equal(b.http!.maxConnectionsPerPeer, 32);
  assert.equal(b.grpc.maxConnectionsPerPeer, 128);
  const tight = connectionBudget(requested, { limit: 300, reserved: 256 });
  assert.ok(tight.grpc.maxConnectionsPerPeer <= tight.grpc.maxConnections);
  assert.ok(tight.http!.maxConnections + tight.grpc.maxConnections <= 44);
  const noHttp = connectionBudget({ grpc: requested.grpc }, { limit: 576, reserved: 256 });
  assert.equal(noHttp.grpc.maxConnections, 320, 'HTTP disabled: gRPC may use the whole budget');
});

void test('a limit that leaves no room for connections after the reserve is an error naming both', () => {
  assert.throws(() => connectionBudget(requested, { limit: 257, reserved: 256 }), (e: Error) =>
    e instanceof DescriptorBudgetError && /descriptor limit \(RLIMIT_NOFILE\) is 257/.test(e.message) && /reservedDescriptors is 256/.test(e.message));
});
