import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAME_PREFIX, FrameBatch, messagesOf, writePrefix } from './frames.js';

function add(batch: FrameBatch, text: string): void {
  const body = Buffer.from(text);
  const at = batch.reserve(FRAME_PREFIX + body.length);
  writePrefix(batch.buffer, at, body.length);
  body.copy(batch.buffer, at + FRAME_PREFIX);
  batch.commit(FRAME_PREFIX + body.length);
}

const texts = (chunk: Buffer) => [...messagesOf(chunk)].map((m) => m.toString());

void test('chunks taken from a batch keep their messages while later ones fill the slab and the next ones', () => {
  const batch = new FrameBatch(64);
  const chunks: { chunk: Buffer; want: string[] }[] = [];
  let n = 0;
  for (let c = 0; c < 40; c++) {
    const want = Array.from({ length: c % 4 }, () => `message-${n++}-${'x'.repeat(n % 23)}`);
    for (const w of want) add(batch, w);
    assert.equal(batch.count, want.length);
    chunks.push({ chunk: batch.take(), want });
    assert.equal(batch.bytes, 0);
  }
  for (const { chunk, want } of chunks) assert.deepEqual(texts(chunk), want);
});

void test('a message larger than a slab gets a slab of its own, after the open chunk\'s messages', () => {
  const batch = new FrameBatch(32);
  add(batch, 'small');
  const big = 'B'.repeat(100);
  add(batch, big);
  add(batch, 'after');
  assert.deepEqual(texts(batch.take()), ['small', big, 'after']);
});
