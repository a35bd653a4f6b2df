import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AddressError, isLoopbackHost, parseListenAddress } from './index.js';

void test('listen addresses: host:port, [ipv6]:port and :port', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:9727'), { host: '127.0.0.1', port: 9727 });
  assert.deepEqual(parseListenAddress('[::1]:0'), { host: '::1', port: 0 });
  assert.deepEqual(parseListenAddress(':9727'), { host: '0.0.0.0', port: 9727 });
  assert.deepEqual(parseListenAddress('localhost:80'), { host: 'localhost', port: 80 });
  for (const bad of ['9727', '127.0.0.1', '127.0.0.1:70000', '::1:80', 'host:port']) assert.throws(() => parseListenAddress(bad), AddressError, bad);
});

void test('loopback hosts are only reachable from this machine', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', 'localhost']) assert.ok(isLoopbackHost(h), h);
  for (const h of ['0.0.0.0', '10.0.0.1', '::', 'example.com']) assert.ok(!isLoopbackHost(h), h);
});
