import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootTime } from './index.js';

void test('boot time in Go\'s time.String() form, truncated to the second, as upstream', () => {
  assert.equal(bootTime(Date.UTC(2026, 11, 1, 15, 0, 0, 900), 3600.95), '2026-12-01 13:59:59 +0000 UTC');
});
