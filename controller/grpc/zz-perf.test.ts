import { test } from 'node:test';
import { Client } from '@grpc/grpc-js';
import { Alert, RequestMessage } from '../../proto/gen/feeder.js';
import { LogBroker, logServiceBinding } from './logs/index.js';
import { insecure, separateConnection, startTestServer } from './testing.js';
const HWM = Number(process.env.HWM ?? 0);
test('perf', async () => {
  const broker = new LogBroker({ queueSize: 100000, notice: { hostName: 'h', clusterName: 'c' } });
  const binding = logServiceBinding(broker);
  if (HWM) { const orig = binding.implementation.watchAlerts as any; binding.implementation.watchAlerts = ((call: any) => { call._writableState.highWaterMark = HWM; orig(call); }) as any; }
  const running = await startTestServer([binding]);
  for (const nsubs of [1, 10]) {
    const clients = Array.from({ length: nsubs }, () => new Client(running.target, insecure(), separateConnection));
    let got = 0;
    const streams = clients.map((c) => { const s = c.makeServerStreamRequest('/feeder.LogService/WatchAlerts', (r: RequestMessage) => Buffer.from(RequestMessage.encode(r).finish()), (b: Buffer) => b, { Filter: 'all' }); s.on('data', () => { got++; }); s.on('error', () => {}); return s; });
    while (broker.subscriberCount() < nsubs) await new Promise((r) => setImmediate(r));
    const a = Alert.fromPartial({ Timestamp: 1763700000, UpdatedTime: '2025-11-21T04:40:00.123456Z', ClusterName: 'default', HostName: 'win-node-1', HostPID: 1234, PPID: 1, PID: 1234, UID: 0, PolicyName: 'block-secret', Severity: '5', Tags: 'a,b', ATags: ['a', 'b'], Message: 'blocked', Type: 'MatchedHostPolicy', Source: 'C:\\Windows\\System32\\cmd.exe', Operation: 'File', Resource: 'C:\\secret\\file.txt', Data: 'access=read', Action: 'Block', Result: 'Permission denied', ProcessName: 'C:\\Windows\\System32\\cmd.exe', ParentProcessName: 'C:\\Windows\\explorer.exe', Enforcer: 'kawin' });
    const N = 300000;
    const t0 = performance.now();
    let pubTime = 0;
    for (let i = 0; i < N; i += 1000) {
      const p0 = performance.now();
      for (let j = 0; j < 1000; j++) { a.HostPID = i + j; broker.publishAlert(a); }
      pubTime += performance.now() - p0;
      while (got < (i + 1000) * nsubs - 50000 * nsubs) await new Promise((r) => setImmediate(r));
    }
    while (got < N * nsubs - Number(broker.counters.alerts.dropped)) await new Promise((r) => setImmediate(r));
    const dt = (performance.now() - t0) / 1000;
    console.log(`hwm=${HWM} subs=${nsubs} ${Math.round(N / dt)} events/s delivered to each; publish cost ${(pubTime * 1e6 / N).toFixed(0)} ns/event; dropped ${broker.counters.alerts.dropped}`);
    streams.forEach((s) => s.cancel()); clients.forEach((c) => c.close());
    broker.counters.alerts.dropped = 0;
  }
  await running.stop();
});
