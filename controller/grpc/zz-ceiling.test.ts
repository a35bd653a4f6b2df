import { test } from 'node:test';
import { Client, Server, ServerCredentials } from '@grpc/grpc-js';
import { Alert, RequestMessage } from '../../proto/gen/feeder.js';
import { LogBroker, logServiceBinding } from './logs/index.js';
import { insecure, separateConnection, startTestServer } from './testing.js';
const a = Alert.fromPartial({ Timestamp: 1763700000, UpdatedTime: '2025-11-21T04:40:00.123456Z', ClusterName: 'default', HostName: 'win-node-1', HostPID: 1234, PolicyName: 'block-secret', Severity: '5', Tags: 'a,b', ATags: ['a', 'b'], Message: 'blocked', Type: 'MatchedHostPolicy', Source: 'C:\\Windows\\System32\\cmd.exe', Operation: 'File', Resource: 'C:\\secret\\file.txt', Action: 'Block', Result: 'Permission denied' });
const N = 200000;
async function ceiling() {
  const buf = Buffer.from(Alert.encode(a).finish());
  const server = new Server();
  server.addService({ w: { path: '/x.Y/W', requestStream: false, responseStream: true, requestSerialize: (b: Buffer) => b, requestDeserialize: (b: Buffer) => b, responseSerialize: (b: Buffer) => b, responseDeserialize: (b: Buffer) => b } } as any, {
    w: (call: any) => { let i = 0; const pump = () => { while (i < N) { i++; if (!call.write(buf)) { call.once('drain', pump); return; } } call.end(); }; pump(); },
  });
  const port = await new Promise<number>((res) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (_e, p) => res(p)));
  const c = new Client(`127.0.0.1:${port}`, insecure(), separateConnection);
  const t0 = performance.now();
  let got = 0;
  const s = c.makeServerStreamRequest('/x.Y/W', (b: Buffer) => b, (b: Buffer) => b, Buffer.alloc(0));
  s.on('data', () => { got++; });
  await new Promise((r) => s.on('end', r));
  c.close(); server.forceShutdown();
  return got / ((performance.now() - t0) / 1000);
}
async function broker() {
  const broker = new LogBroker({ queueSize: N, notice: { hostName: 'h', clusterName: 'c' } });
  const running = await startTestServer([logServiceBinding(broker)]);
  const c = new Client(running.target, insecure(), separateConnection);
  let got = 0;
  const s = c.makeServerStreamRequest('/feeder.LogService/WatchAlerts', (r: RequestMessage) => Buffer.from(RequestMessage.encode(r).finish()), (b: Buffer) => b, { Filter: 'all' });
  s.on('data', () => { got++; }); s.on('error', () => {});
  while (broker.subscriberCount() < 1) await new Promise((r) => setImmediate(r));
  const t0 = performance.now();
  for (let i = 0; i < N; i++) { a.HostPID = i; broker.publishAlert(a); }
  const pub = performance.now() - t0;
  while (got < N) await new Promise((r) => setTimeout(r, 1));
  const rate = N / ((performance.now() - t0) / 1000);
  s.cancel(); c.close(); await running.stop();
  return { rate, pubNs: pub * 1e6 / N };
}
test('ceiling vs broker', async () => {
  for (let k = 0; k < 2; k++) {
    const ce = await ceiling();
    const b = await broker();
    console.log(`ceiling ${Math.round(ce)}/s broker ${Math.round(b.rate)}/s ratio ${(b.rate / ce).toFixed(2)} publish ${b.pubNs.toFixed(0)} ns/event`);
  }
});
