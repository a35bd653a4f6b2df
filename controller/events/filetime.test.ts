import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filetimeToEventTime, TimeFormatter, UNIX_EPOCH_FILETIME, unixMillisToEventTime } from './filetime.js';

const ft = (iso: string, extraTicks = 0n): bigint =>
  UNIX_EPOCH_FILETIME + BigInt(Date.parse(iso)) * 10_000n + extraTicks;

void test('FILETIME converts to Unix seconds and RFC 3339 with microseconds', () => {
  const t = filetimeToEventTime(ft('2026-11-21T09:36:17.123Z', 4567n));
  assert.equal(t.seconds, Date.parse('2026-11-21T09:36:17Z') / 1000);
  assert.equal(t.text, '2026-11-21T09:36:17.123456Z');
});

void test('microseconds are exact at full FILETIME precision (no float rounding)', () => {
  // 2^53 is far below a present-day FILETIME: a Number conversion would lose ticks.
  const base = ft('2026-01-01T00:00:00Z');
  assert.equal(filetimeToEventTime(base + 9_999_999n).text, '2026-01-01T00:00:00.999999Z');
  assert.equal(filetimeToEventTime(base + 10n).text, '2026-01-01T00:00:00.000001Z');
  assert.equal(filetimeToEventTime(base + 9n).text, '2026-01-01T00:00:00.000000Z');
  assert.equal(filetimeToEventTime(base + 10_000_000n).text, '2026-01-01T00:00:01.000000Z');
});

void test('epoch edges: 1601, 1970 and before 1970', () => {
  assert.deepEqual(filetimeToEventTime(0n), { seconds: -11_644_473_600, text: '1601-01-01T00:00:00.000000Z' });
  assert.deepEqual(filetimeToEventTime(UNIX_EPOCH_FILETIME), { seconds: 0, text: '1970-01-01T00:00:00.000000Z' });
  assert.deepEqual(filetimeToEventTime(UNIX_EPOCH_FILETIME - 1n), { seconds: -1, text: '1969-12-31T23:59:59.999999Z' });
  assert.deepEqual(filetimeToEventTime(UNIX_EPOCH_FILETIME - 10_000_000n), { seconds: -1, text: '1969-12-31T23:59:59.000000Z' });
});

void test('the caching formatter agrees with the plain conversion across second boundaries', () => {
  const f = new TimeFormatter();
  const base = ft('2026-11-21T23:59:59Z');
  const samples = [0n, 1n, 10n, 5_000_000n, 9_999_999n, 10_000_000n, 10_000_010n, 3n, 20_000_001n, -1n, 0n];
  for (const s of samples) {
    const expected = filetimeToEventTime(base + s);
    const got = f.format(base + s);
    assert.deepEqual({ ...got }, expected, `offset ${s}`);
  }
  assert.equal(f.format(0n).text, '1601-01-01T00:00:00.000000Z');
});

void test('agent-made times come from Unix milliseconds', () => {
  assert.deepEqual(unixMillisToEventTime(Date.parse('2026-11-21T09:36:17.250Z')),
    { seconds: Date.parse('2026-11-21T09:36:17Z') / 1000, text: '2026-11-21T09:36:17.250000Z' });
});
