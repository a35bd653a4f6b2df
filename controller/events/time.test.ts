import { test } from 'node:test';
import assert from 'node:assert/strict';
import { microsToEventTime, TimeFormatter, unixMillisToEventTime } from './time.js';

const us = (iso: string, extra = 0): number => Date.parse(iso) * 1000 + extra;

void test('Unix microseconds convert to Unix seconds and RFC 3339 with microseconds', () => {
  const t = microsToEventTime(us('2026-11-21T09:36:17.123Z', 456));
  assert.equal(t.seconds, Date.parse('2026-11-21T09:36:17Z') / 1000);
  assert.equal(t.text, '2026-11-21T09:36:17.123456Z');
});

void test('epoch edges: 1601, 1970 and before 1970', () => {
  assert.deepEqual(microsToEventTime(-11_644_473_600_000_000), { seconds: -11_644_473_600, text: '1601-01-01T00:00:00.000000Z' });
  assert.deepEqual(microsToEventTime(0), { seconds: 0, text: '1970-01-01T00:00:00.000000Z' });
  assert.deepEqual(microsToEventTime(-1), { seconds: -1, text: '1969-12-31T23:59:59.999999Z' });
  assert.deepEqual(microsToEventTime(-1_000_000), { seconds: -1, text: '1969-12-31T23:59:59.000000Z' });
});

void test('the caching formatter agrees with the plain conversion across second boundaries', () => {
  const f = new TimeFormatter();
  const base = us('2026-11-21T23:59:59Z');
  for (const s of [0, 1, 500_000, 999_999, 1_000_000, 1_000_001, 3, 2_000_001, -1, 0]) {
    assert.deepEqual({ ...f.format(base + s) }, microsToEventTime(base + s), `offset ${s}`);
  }
  assert.equal(f.format(-11_644_473_600_000_000).text, '1601-01-01T00:00:00.000000Z');
});

void test('agent-made times come from Unix milliseconds', () => {
  assert.deepEqual(unixMillisToEventTime(Date.parse('2026-11-21T09:36:17.250Z')),
    { seconds: Date.parse('2026-11-21T09:36:17Z') / 1000, text: '2026-11-21T09:36:17.250000Z' });
});
