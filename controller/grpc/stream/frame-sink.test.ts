import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerWritableStream } from '@grpc/grpc-js';
import { Alert, LogServiceClient } from '../../../proto/gen/feeder.js';
import { logServiceDefinition } from '../logs/index.js';
import { insecure, separateConnection, startTestServer } from '../testing.js';
import { frameSink } from './frame-sink.js';
import { frame } from './frames.js';

/** A LogService whose WatchAlerts writes `chunks` of framed alerts through frameSink, recording which path it took. */
async function serve(chunks: number[][]) {
  const seen = { direct: undefined as boolean | undefined };
  const watchAlerts = (call: ServerWritableStream<unknown, Buffer>): void => {
    const sink = frameSink(call);
    seen.direct = sink.direct;
    for (const ids of chunks) {
      sink.write(Buffer.concat(ids.map((i) => frame(Alert.encode(Alert.fromPartial({ HostPID: i, Type: 'MatchedHostPolicy' })).finish()))));
    }
    call.end();
  };
  const noop = (): void => undefined;
  const running = await startTestServer([{
    name: 'feeder.LogService', definition: logServiceDefinition, changesPolicy: false,
    implementation: { watchAlerts, watchLogs: noop, watchMessages: noop, healthCheck: noop },
  }]);
  return { seen, running };
}

void test('on the installed grpc-js, chunks of framed messages go straight to the HTTP/2 stream and arrive as separate messages', async () => {
  const { seen, running } = await serve([[1, 2, 3], [4], [5, 6]]);
  const client = new LogServiceClient(running.target, insecure(), separateConnection);
  const got: number[] = [];
  await new Promise<void>((resolve, reject) => {
    const s = client.watchAlerts({ Filter: 'all' });
    s.on('data', (a: Alert) => got.push(a.HostPID));
    s.on('end', resolve);
    s.on('error', reject);
  });
  assert.equal(seen.direct, true, 'grpc-js internals changed: the fan-out fell back to one write per message (see frame-sink.ts)');
  assert.deepEqual(got, [1, 2, 3, 4, 5, 6]);
  client.close();
  await running.stop();
});

void test('anything that is not grpc-js\'s own call gets each message through its public write', () => {
  const written: string[] = [];
  const call = { write: (b: Buffer) => { written.push(b.toString()); return written.length < 2; }, once: () => undefined, removeListener: () => undefined };
  const sink = frameSink(call);
  assert.equal(sink.direct, false);
  assert.equal(sink.write(Buffer.concat([frame(Buffer.from('a')), frame(Buffer.from('bc'))])), false, 'the last write says whether to wait');
  assert.deepEqual(written, ['a', 'bc']);
});
