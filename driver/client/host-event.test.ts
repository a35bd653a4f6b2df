import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FILETIME_UNIX_EPOCH } from '../abi/codec.js';
import { Decision, EventType, type DriverEvent } from '../abi/types.js';
import { DosPathCache, FiletimeConverter, HostEventConverter } from './host-event.js';
import { DosPathTranslator } from './paths.js';
import type { PathTranslator } from './types.js';

const ft = (iso: string, extraTicks = 0n): bigint => FILETIME_UNIX_EPOCH + BigInt(Date.parse(iso)) * 10_000n + extraTicks;
const us = (iso: string): number => Date.parse(iso) * 1000;

void test('FILETIME becomes Unix microseconds, exact at full precision (the 100 ns digit truncated)', () => {
  const c = new FiletimeConverter();
  const base = ft('2026-01-01T00:00:00Z');
  // 2^53 is far below a present-day FILETIME: a plain Number conversion would lose ticks.
  const samples: [bigint, number][] = [[9_999_999n, 999_999], [10n, 1], [9n, 0], [10_000_000n, 1_000_000], [25_000_017n, 2_500_001], [3n, 0]];
  for (const [ticks, micros] of samples) assert.equal(c.micros(base + ticks), us('2026-01-01T00:00:00Z') + micros, `+${ticks} ticks`);
  assert.equal(new FiletimeConverter().micros(ft('2026-11-21T09:36:17.123Z', 4567n)), us('2026-11-21T09:36:17.123Z') + 456);
});

void test('epoch edges: 1601 and just before 1970', () => {
  const c = new FiletimeConverter();
  assert.equal(c.micros(0n), -11_644_473_600_000_000);
  assert.equal(c.micros(FILETIME_UNIX_EPOCH - 1n), -1);
  assert.equal(c.micros(FILETIME_UNIX_EPOCH), 0);
});

/** `\Device\HarddiskVolume3\x` ↔ `C:\x`, counting conversions (to prove caching). */
class CountingMap implements PathTranslator {
  conversions = 0;
  private readonly inner = new DosPathTranslator(new Map([['C:', '\\Device\\HarddiskVolume3']]));
  toDriver(p: string): string { return this.inner.toDriver(p); }
  toDriverParts(p: string): ReturnType<PathTranslator['toDriverParts']> { return this.inner.toDriverParts(p); }
  fromDriver(p: string): string { this.conversions++; return this.inner.fromDriver(p); }
  missingVolume(p: string): string | undefined { return this.inner.missingVolume(p); }
}

const event = (over: Partial<DriverEvent>): DriverEvent => ({
  type: EventType.FileOpen, decision: Decision.Block, time: ft('2026-11-21T10:00:00Z'), ruleId: 1n, processId: 4, parentProcessId: 1,
  threadId: 2, status: 0, desiredAccess: 1, sessionId: 1, newProcessId: 0, targetPath: '', imagePath: '', parentImagePath: '',
  commandLine: '', userSid: '', currentDirectory: '', ...over,
});

void test('NT→DOS: images are cached (bounded), file paths rewritten by the learned device prefix', () => {
  const paths = new CountingMap();
  const c = new HostEventConverter(() => paths, 4);
  const V = '\\Device\\HarddiskVolume3';
  const e = c.convert(event({ targetPath: `${V}\\secret\\key.txt`, imagePath: `${V}\\Windows\\notepad.exe`, parentImagePath: `${V}\\Windows\\explorer.exe` }));
  assert.deepEqual([e.targetPath, e.imagePath, e.parentImagePath], ['C:\\secret\\key.txt', 'C:\\Windows\\notepad.exe', 'C:\\Windows\\explorer.exe']);
  assert.equal(e.timeMicros, us('2026-11-21T10:00:00Z'));
  for (let i = 0; i < 50; i++) c.convert(event({ targetPath: `${V}\\f${i}.txt`, imagePath: `${V}\\img${i}.exe` }));
  assert.equal(paths.conversions, 1, 'the translator was asked once; the rest reuse its device prefix');
  assert.ok(c.paths.cache.size <= 4, 'never more than pathCacheSize images');
  assert.ok(c.takeEvictions() > 0, 'evictions are counted');
  assert.equal(c.takeEvictions(), 0, 'and taken once');
  assert.equal(c.convert(event({ targetPath: '\\Device\\HarddiskVolume9\\x.txt' })).targetPath, '\\Device\\HarddiskVolume9\\x.txt', 'no such volume: left as is');
});

void test('prefix rewriting agrees with the translator on every path form', () => {
  const translator = new DosPathTranslator(new Map([['C:', '\\Device\\HarddiskVolume3'], ['D:', '\\Device\\HarddiskVolume30']]));
  const cache = new DosPathCache(() => translator, 64);
  const paths = [
    '\\Device\\HarddiskVolume3\\Windows\\a.dll', '\\Device\\HarddiskVolume30\\x\\y.txt', '\\Device\\HarddiskVolume3',
    '\\Device\\HarddiskVolume3\\b', '\\Device\\HarddiskVolume30\\z', '\\DEVICE\\HARDDISKVOLUME3\\c', '\\Device\\HarddiskVolume31\\q',
    '\\Device\\Mup\\server\\share\\f', '',
  ];
  for (let round = 0; round < 2; round++) for (const p of paths) assert.equal(cache.convert(p), p === '' ? '' : translator.fromDriver(p), p);
});

void test('a new drive map is followed once the cache is reset', () => {
  let translator: PathTranslator = new DosPathTranslator(new Map([['C:', '\\Device\\HarddiskVolume3']]));
  const cache = new DosPathCache(() => translator, 64);
  assert.equal(cache.toDos('\\Device\\HarddiskVolume3\\a.exe'), 'C:\\a.exe');
  translator = new DosPathTranslator(new Map([['E:', '\\Device\\HarddiskVolume3']]));
  cache.reset();
  assert.equal(cache.toDos('\\Device\\HarddiskVolume3\\a.exe'), 'E:\\a.exe');
  assert.equal(cache.convert('\\Device\\HarddiskVolume3\\b.txt'), 'E:\\b.txt');
});
