import { test } from 'node:test';
import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { checkPolicyPeer, isLoopbackPeer, peerAddress, refusalReason } from './peer.js';

const tcp = { mutualTls: false, unixSocketOnly: false };

void test('peer strings of grpc-js and grpc core parse to the address', () => {
  assert.equal(peerAddress('127.0.0.1:5000'), '127.0.0.1');
  assert.equal(peerAddress('::1:5432'), '::1');
  assert.equal(peerAddress('[::1]:5432'), '::1');
  assert.equal(peerAddress('ipv6:[::1]:5432'), '::1');
  assert.equal(peerAddress('ipv4:10.0.0.2:1'), '10.0.0.2');
  assert.equal(peerAddress('::ffff:127.0.0.1:40000'), '::ffff:127.0.0.1');
  assert.equal(peerAddress('unknown'), undefined);
  assert.equal(peerAddress('garbage:1'), undefined);
});

void test('loopback peers are recognised in every spelling', () => {
  for (const p of ['127.0.0.1:1', '127.9.8.7:65535', '::1:5432', '[::1]:80', '::ffff:127.0.0.1:9', 'ipv4:127.0.0.1:2', '0:0:0:0:0:0:0:1:443']) {
    assert.equal(isLoopbackPeer(p), true, p);
  }
  for (const p of ['10.0.0.2:1', '::ffff:10.0.0.2:5', 'fe80::1:22', '[2001:db8::1]:80', '128.0.0.1:1', 'unknown', '', '127.0.0.1.evil:1']) {
    assert.equal(isLoopbackPeer(p), false, p);
  }
});

void test('non-loopback peers are refused unless mutual TLS is on', () => {
  assert.match(refusalReason('10.0.0.2:3333', tcp) ?? '', /only from the local machine.*10\.0\.0\.2:3333/);
  assert.equal(refusalReason('10.0.0.2:3333', { mutualTls: true, unixSocketOnly: false }), undefined);
  assert.equal(refusalReason('127.0.0.1:3333', tcp), undefined);
  assert.equal(checkPolicyPeer({ getPeer: () => '192.0.2.1:1' }, tcp)?.code, status.PERMISSION_DENIED);
});

void test('an unknown peer is a local unix socket only when nothing listens on TCP', () => {
  assert.notEqual(refusalReason('unknown', tcp), undefined);
  assert.equal(refusalReason('unknown', { mutualTls: false, unixSocketOnly: true }), undefined);
});
