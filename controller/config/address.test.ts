import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressError, canonicalListenAddress, isLoopbackHost, parseListenAddress, unixSocketPath } from './index.js';

void test('listen addresses: host:port, [ipv6]:port and :port', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9727'), { host: '127.0.0.1', port: 9727 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListenAddress(':9727'), { host: '0.0.0.0', port: 9727 });
  assert.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 });
  for (const bad of ['9727', '127.0.0.1', '127.0.0.1:70000', '::1:80', 'host:port']) assert.throws(() => parseListenAddress(bad), AddressError, bad);
});

void test('loopback addresses are only reachable from this machine; a name is never loopback by itself', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com', 'localhost', '127.0.0.1.nip.io']) assert.ok(!isLoopbackHost(h), h);
});

void test('localhost is rewritten to the loopback address; unix: addresses name their socket', () => {
  assert.equal(canonicalListenAddress('localhost:80'), '127.0.0.1:80');
  assert.equal(canonicalListenAddress('LOCALHOST:1'), '127.0.0.1:1');
  assert.equal(canonicalListenAddress('myhost:1'), 'myhost:1');
  assert.equal(unixSocketPath('unix:/run/k.sock'), '/run/k.sock');
  assert.equal(unixSocketPath('unix:///run/k.sock'), '/run/k.sock');
  assert.throws(() => unixSocketPath('unix:'), AddressError);
});
