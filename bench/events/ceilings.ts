/**
 * The two ceilings the pipeline is compared with: how fast DriverClient.events() alone
 * drains the port, and how fast a plain grpc-js server streams pre-built Alerts.
 */
import { once } from 'node:events';
import { Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { Alert, LogServiceService } from '../../proto/gen/feeder.js';
import type { EmulatorFixture } from '../../test/emulator.js';
import { clientRate, sleep, Subscribers, untilFlowing } from './subscribers.js';
import { cpuFigures } from './agents.js';
import { watchCpu } from './cpu.js';
import { frameSink } from '../../controller/grpc/stream/frame-sink.js';
import { frame } from '../../controller/grpc/stream/frames.js';

export async function rawDrain(emu: EmulatorFixture, count: number) {
  const driver = await emu.client();
  const ac = new AbortController();
  const seen = { events: 0, dropped: 0, first: 0, last: 0 };
  const reading = (async () => {
    for await (const b of driver.events({ signal: ac.signal })) {
      const t = performance.now();
      if (seen.first === 0) seen.first = t;
      seen.last = t;
      seen.events += b.events.length;
      seen.dropped += Number(b.dropped);
    }
  })();
  const settle = async () => { let last = -1; while (seen.events !== last) { last = seen.events; await sleep(300); } };
  await untilFlowing((n) => emu.machine.generateLoad(n), () => seen.events);
  await emu.machine.generateLoad(Math.min(count, 50_000), 0, true); // warm-up, not measured
  await settle();
  Object.assign(seen, { events: 0, dropped: 0, first: 0, last: 0 });
  const cpu = process.cpuUsage();
  await emu.machine.generateLoad(count, 0, true);
  await settle();
  const used = process.cpuUsage(cpu);
  ac.abort();
  await reading;
  await driver.close();
  const seconds = (seen.last - seen.first) / 1000;
  return {
    generated: count, events: seen.events, driverDropped: seen.dropped, seconds: +seconds.toFixed(3),
    eventsPerSecond: Math.round(seen.events / seconds), ...cpuFigures(used, seen.events),
  };
}

export function prebuiltAlerts(n: number): Alert[] {
  return Array.from({ length: n }, (_, i) => Alert.fromPartial({
    Timestamp: 1795255200, UpdatedTime: '2026-11-21T10:00:00.123456Z', ClusterName: 'default', HostName: 'bench-node',
    HostPID: 7000 + i, PPID: 4, PID: 7000 + i, PolicyName: `load-policy-${i % 16}`, Severity: '5', Tags: 'bench,load',
    ATags: ['bench', 'load'], Type: 'MatchedHostPolicy', Source: 'C:\\Windows\\System32\\kawin-load.exe', Operation: 'File',
    Resource: `C:\\kawin-load\\d${String(i % 32).padStart(2, '0')}\\file${String(i).padStart(6, '0')}.txt`, Data: 'access=READ_DATA',
    Action: 'Audit', Result: 'Passed', ProcessName: 'C:\\Windows\\System32\\kawin-load.exe', Enforcer: 'kawin', UserName: 'NT AUTHORITY\\SYSTEM',
  }));
}

/** Messages per write in the `chunks` ceiling (the LogBroker's chunks hold up to 512). */
const CHUNK = 256;

/**
 * `preEncoded`: the messages are bytes already, written one grpc-js `write` each (the
 * transport alone, as a plain grpc-js service would send them); otherwise grpc-js
 * serializes each pre-built Alert object with the generated encoder. `chunks`: the bytes
 * framed `CHUNK` at a time and written straight to the HTTP/2 stream, as the LogBroker
 * does (frame-sink.ts): what the write path costs once grpc-js's per-message path is
 * out of it. Server CPU per message is measured too.
 */
export async function grpcCeiling(count: number, clients: number, preEncoded: boolean, chunks = false, window = 0) {
  const objects = prebuiltAlerts(1024);
  const alerts: (Alert | Buffer)[] = preEncoded ? objects.map((a) => Buffer.from(Alert.encode(a).finish())) : objects;
  const framed = chunks ? Buffer.concat(Array.from({ length: CHUNK }, (_, i) => frame(alerts[i % alerts.length] as Buffer))) : Buffer.alloc(0);
  let cpu = process.cpuUsage();
  // The server starts writing once the subscriber process is known, so that both CPU figures cover the same span.
  let go!: () => void;
  const started = new Promise<void>((r) => { go = r; });
  const server = new Server();
  const definition = preEncoded
    ? { ...LogServiceService, watchAlerts: { ...LogServiceService.watchAlerts, responseSerialize: (b: Buffer) => b } }
    : LogServiceService;
  server.addService(definition, {
    healthCheck: () => undefined,
    watchMessages: () => undefined,
    watchLogs: () => undefined,
    watchAlerts: (call: ServerWritableStream<unknown, Alert | Buffer>) => {
      void (async () => {
        await started;
        cpu = process.cpuUsage();
        if (chunks) {
          const sink = frameSink(call as ServerWritableStream<unknown, Buffer>);
          for (let i = 0; i < count; i += CHUNK) {
            const bytes = count - i >= CHUNK ? framed : Buffer.concat(Array.from({ length: count - i }, (_, j) => frame(alerts[j % alerts.length] as Buffer)));
            if (!sink.write(bytes)) await new Promise<void>((r) => sink.onDrain(r));
          }
        } else {
          for (let i = 0; i < count; i++) {
            if (!call.write(alerts[i % alerts.length]!)) await once(call, 'drain');
          }
        }
        call.end();
      })();
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const subs = await Subscribers.start(`127.0.0.1:${port}`, clients, window);
  const processes = watchCpu({ server: process.pid, subscriber: subs.pid }, ['server']);
  go();
  const r = await subs.settle(count);
  const used = process.cpuUsage(cpu);
  const rate = clientRate(r);
  /** CPU µs per message of the server (this process) and the subscriber process, from /proc. */
  const processCpu = processes.stop(clients * count);
  await subs.stop();
  server.forceShutdown();
  return { clients, preEncoded, chunks, window, sent: count, ...rate, lost: clients * count - rate.received, serverCpu: cpuFigures(used, clients * count), processCpu };
}
