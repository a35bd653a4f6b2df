/**
 * bench:events — events per second from the emulator's load generator through
 * DriverClient.events() → EventPipeline → LogBroker → gRPC WatchAlerts subscribers on
 * loopback (real grpc-js clients in a child process, decoding every Alert), against two
 * ceilings measured in the same run: the raw drain rate of the port (events() alone)
 * and a plain grpc-js server streaming pre-built Alert messages.
 *
 *   npm run bench:events [-- --quick] [-- --rate N]
 *
 * Writes bench/results/events.json.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { Alert, LogServiceService } from '../../proto/gen/feeder.js';
import { EventPipeline, publisherSink, type AlertRecord, type EventSink } from '../../controller/events/index.js';
import { LogBroker, logServiceBinding } from '../../controller/grpc/logs/index.js';
import { KawinGrpcServer } from '../../controller/grpc/server.js';
import type { RuleProvenance } from '../../controller/policy/provenance.js';
import { startEmulator, type EmulatorFixture } from '../../test/emulator.js';
import type { DriverClient } from '../../driver/client/index.js';
import type { SubscriberReport } from './subscriber.js';

const quick = process.argv.includes('--quick');
const rateArg = process.argv.indexOf('--rate');
const PACED_RATE = rateArg > 0 ? Number(process.argv[rateArg + 1]) : 200_000;
const N1 = quick ? 300_000 : 1_000_000;
const N10 = quick ? 100_000 : 300_000;
const IDLE_MS = 1500;
const LOAD_RULE_BASE = 0x4c4f414400000000n; // the emulator's load generator rule ids (+1..16)

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const round = (x: number) => Math.round(x);

// ---- the subscriber child -------------------------------------------------------------

class Subscribers {
  private constructor(private readonly child: ChildProcess) {}

  static async start(target: string, clients: number): Promise<Subscribers> {
    const child = fork(new URL('./subscriber.ts', import.meta.url).pathname, [target, String(clients)], { execArgv: ['--import', 'tsx'] });
    const [m] = (await once(child, 'message')) as [string];
    if (m !== 'ready') throw new Error(`subscriber said ${m}`);
    return new Subscribers(child);
  }

  async report(): Promise<SubscriberReport> {
    this.child.send('report');
    const [r] = (await once(this.child, 'message')) as [SubscriberReport];
    return r;
  }

  /** Poll until every client has `expected` events or nothing arrives for IDLE_MS. */
  async settle(expected: number): Promise<SubscriberReport> {
    let last = -1;
    let since = Date.now();
    for (;;) {
      await sleep(100);
      const r = await this.report();
      const total = r.received.reduce((a, b) => a + b, 0);
      if (r.received.every((n) => n >= expected)) return r;
      if (total !== last) { last = total; since = Date.now(); } else if (Date.now() - since > IDLE_MS) return r;
    }
  }

  async stop(): Promise<void> {
    this.child.send('exit');
    await once(this.child, 'exit');
  }
}

const clientRate = (r: SubscriberReport) => {
  const per = Math.min(...r.received);
  const seconds = (r.lastAt - r.firstAt) / 1000;
  return { perSubscriber: seconds > 0 ? per / seconds : 0, seconds, received: r.received.reduce((a, b) => a + b, 0) };
};

// ---- ceiling 1: the port's raw drain rate ---------------------------------------------

async function rawDrain(emu: EmulatorFixture, count: number) {
  const driver = await emu.client();
  const ac = new AbortController();
  let events = 0;
  let dropped = 0;
  let first = 0;
  let last = 0;
  const reading = (async () => {
    for await (const b of driver.events({ signal: ac.signal })) {
      const t = performance.now();
      if (first === 0) first = t;
      last = t;
      events += b.events.length;
      dropped += Number(b.dropped);
      if (events + dropped >= count) break;
    }
  })();
  await sleep(200); // the port connects
  await emu.machine.generateLoad(count, 0, true);
  await Promise.race([reading, sleep(10_000)]);
  ac.abort();
  await driver.close();
  const seconds = (last - first) / 1000;
  return { events, driverDropped: dropped, seconds, eventsPerSecond: round(events / seconds) };
}

// ---- ceiling 2: a plain grpc-js server streaming pre-built Alerts ---------------------

function prebuiltAlerts(n: number): Alert[] {
  return Array.from({ length: n }, (_, i) => Alert.fromPartial({
    Timestamp: 1795255200, UpdatedTime: '2026-11-21T10:00:00.123456Z', ClusterName: 'default', HostName: 'bench-node',
    HostPID: 7000 + i, PPID: 4, PID: 7000 + i, PolicyName: `load-policy-${i % 16}`, Severity: '5', Tags: 'bench,load',
    ATags: ['bench', 'load'], Type: 'MatchedHostPolicy', Source: 'C:\\Windows\\System32\\kawin-load.exe', Operation: 'File',
    Resource: `C:\\kawin-load\\d${String(i % 32).padStart(2, '0')}\\file${String(i).padStart(6, '0')}.txt`, Data: 'access=READ_DATA',
    Action: 'Audit', Result: 'Passed', ProcessName: 'C:\\Windows\\System32\\kawin-load.exe', Enforcer: 'kawin', UserName: 'NT AUTHORITY\\SYSTEM',
  }));
}

/**
 * `preEncoded`: the messages are bytes already (as the LogBroker hands grpc-js), so
 * this is the transport alone; otherwise grpc-js serializes each pre-built Alert object
 * with the generated encoder, as a plain grpc-js service would.
 */
async function grpcCeiling(count: number, clients: number, preEncoded: boolean) {
  const objects = prebuiltAlerts(1024);
  const alerts: (Alert | Buffer)[] = preEncoded ? objects.map((a) => Buffer.from(Alert.encode(a).finish())) : objects;
  const server = new Server();
  let streams = 0;
  const definition = preEncoded
    ? { ...LogServiceService, watchAlerts: { ...LogServiceService.watchAlerts, responseSerialize: (b: Buffer) => b } }
    : LogServiceService;
  server.addService(definition, {
    healthCheck: () => undefined,
    watchMessages: () => undefined,
    watchLogs: () => undefined,
    watchAlerts: (call: ServerWritableStream<unknown, Alert | Buffer>) => {
      streams++;
      void (async () => {
        for (let i = 0; i < count; i++) {
          if (!call.write(alerts[i % alerts.length]!)) await once(call, 'drain');
        }
        call.end();
      })();
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const subs = await Subscribers.start(`127.0.0.1:${port}`, clients);
  const r = await subs.settle(count);
  await subs.stop();
  server.forceShutdown();
  const rate = clientRate(r);
  return { clients, preEncoded, streams, sent: count, ...rate, perSubscriber: round(rate.perSubscriber), lost: clients * count - rate.received };
}

// ---- the whole pipeline ---------------------------------------------------------------

/** Counts what the pipeline publishes, server side. */
class Timing implements EventSink {
  alerts = 0;
  first = 0;
  last = 0;
  alert(_a: AlertRecord): void {
    const t = performance.now();
    if (this.alerts++ === 0) this.first = t;
    this.last = t;
  }
  log(): void {}
  message(): void {}
  reset(): void { this.alerts = 0; this.first = 0; this.last = 0; }
}

async function startAgent(driver: DriverClient) {
  const provenance = new Map<bigint, RuleProvenance>();
  for (let i = 1n; i <= 16n; i++) {
    provenance.set(LOAD_RULE_BASE + i, { ruleId: LOAD_RULE_BASE + i, action: 'Audit', origins: [{ kind: 'KubeArmorHostPolicy', policy: `load-policy-${i}`, severity: 5, tags: ['bench', 'load'], message: 'load' }] });
  }
  const broker = new LogBroker({ queueSize: 65_536, notice: { hostName: 'bench-node', clusterName: 'default' } });
  const server = new KawinGrpcServer({ address: '127.0.0.1:0', shutdownGraceMs: 500 }, [logServiceBinding(broker)]);
  const port = await server.start();
  const timing = new Timing();
  const pipeline = new EventPipeline({
    hostName: 'bench-node', clusterName: 'default', provenance: { lookup: (id) => provenance.get(id) }, paths: driver.paths,
    hostTelemetry: false, allowAlerts: false, sinks: [publisherSink(broker), timing], registry: new Registry(),
  });
  const ac = new AbortController();
  const running = pipeline.run(driver.events({ signal: ac.signal }), ac.signal);
  return {
    broker, pipeline, timing, target: `127.0.0.1:${port}`,
    async stop() { ac.abort(); await running; await server.stop(); },
  };
}

type Agent = Awaited<ReturnType<typeof startAgent>>;

async function throughPipeline(emu: EmulatorFixture, agent: Agent, count: number, clients: number, rate: number) {
  const subs = await Subscribers.start(agent.target, clients);
  while (agent.broker.subscriberCount('alerts') < clients) await sleep(20);
  const before = { ...agent.pipeline.stats().dropped, broker: agent.broker.counters.alerts.dropped };
  agent.timing.reset();
  await emu.machine.generateLoad(count, rate, true);
  const r = await subs.settle(count);
  await subs.stop();
  while (agent.broker.subscriberCount('alerts') > 0) await sleep(20);
  const after = agent.pipeline.stats().dropped;
  const rateAtClient = clientRate(r);
  const serverSeconds = (agent.timing.last - agent.timing.first) / 1000;
  const loss = {
    driver: after.driver - before.driver,
    pipeline: after.pipeline - before.pipeline,
    broker: agent.broker.counters.alerts.dropped - before.broker,
    missingAtClients: clients * count - rateAtClient.received,
  };
  return {
    clients, generated: count, generatorRate: rate || 'max', published: agent.timing.alerts,
    pipelineEventsPerSecond: round(agent.timing.alerts / serverSeconds), perSubscriber: round(rateAtClient.perSubscriber),
    seconds: rateAtClient.seconds, received: rateAtClient.received, loss, errors: r.errors,
  };
}

// ---- main ------------------------------------------------------------------------------

async function main(): Promise<void> {
  const emu = await startEmulator(undefined, { flavor: 'windows', drives: { 'C:': '\\Device\\HarddiskVolume3' } });
  try {
    console.log(`bench:events ${quick ? '(quick) ' : ''}— ${N1} events (1 subscriber), ${N10} (10 subscribers)`);
    const drain = await rawDrain(emu, N1);
    console.log(`raw port drain (DriverClient.events() alone): ${drain.eventsPerSecond} ev/s, driver drops ${drain.driverDropped}`);
    const ceiling1 = await grpcCeiling(N1, 1, false);
    console.log(`plain grpc-js, pre-built Alert objects, 1 subscriber: ${ceiling1.perSubscriber} msg/s`);
    const bytes1 = await grpcCeiling(N1, 1, true);
    console.log(`plain grpc-js, pre-encoded Alerts, 1 subscriber: ${bytes1.perSubscriber} msg/s`);
    const ceiling10 = await grpcCeiling(N10, 10, false);
    console.log(`plain grpc-js, pre-built Alert objects, 10 subscribers: ${ceiling10.perSubscriber} msg/s each`);
    const bytes10 = await grpcCeiling(N10, 10, true);
    console.log(`plain grpc-js, pre-encoded Alerts, 10 subscribers: ${bytes10.perSubscriber} msg/s each`);

    const driver = await emu.client();
    const agent = await startAgent(driver);
    await sleep(200);
    const sat1 = await throughPipeline(emu, agent, N1, 1, 0);
    console.log(`pipeline → 1 subscriber, generator at max: ${sat1.perSubscriber} ev/s at the client (pipeline ${sat1.pipelineEventsPerSecond} ev/s), loss ${JSON.stringify(sat1.loss)}`);
    const paced1 = await throughPipeline(emu, agent, N1, 1, PACED_RATE);
    console.log(`pipeline → 1 subscriber, generator at ${PACED_RATE}/s: ${paced1.perSubscriber} ev/s, loss ${JSON.stringify(paced1.loss)}`);
    const sat10 = await throughPipeline(emu, agent, N10, 10, 0);
    console.log(`pipeline → 10 subscribers, generator at max: ${sat10.perSubscriber} ev/s each (pipeline ${sat10.pipelineEventsPerSecond} ev/s), loss ${JSON.stringify(sat10.loss)}`);
    const rate10 = Math.max(1000, Math.floor((sat10.perSubscriber * 0.7) / 1000) * 1000);
    const paced10 = await throughPipeline(emu, agent, N10, 10, rate10);
    console.log(`pipeline → 10 subscribers, generator at ${rate10}/s: ${paced10.perSubscriber} ev/s each, loss ${JSON.stringify(paced10.loss)}`);
    await agent.stop();

    const best1 = Math.max(sat1.perSubscriber, paced1.perSubscriber);
    const ratios = {
      oneSubscriberVsGrpcCeiling: +(best1 / ceiling1.perSubscriber).toFixed(3),
      tenSubscribersVsGrpcCeiling: +(Math.max(sat10.perSubscriber, paced10.perSubscriber) / ceiling10.perSubscriber).toFixed(3),
      oneSubscriberVsPreEncodedGrpc: +(best1 / bytes1.perSubscriber).toFixed(3),
      tenSubscribersVsPreEncodedGrpc: +(Math.max(sat10.perSubscriber, paced10.perSubscriber) / bytes10.perSubscriber).toFixed(3),
      oneSubscriberVsRawDrain: +(best1 / drain.eventsPerSecond).toFixed(3),
    };
    const goals = { oneSubscriberAtLeast200k: best1 >= 200_000, atLeast60PercentOfGrpcCeiling: ratios.oneSubscriberVsGrpcCeiling >= 0.6 };
    console.log(`ratios ${JSON.stringify(ratios)}; goals ${JSON.stringify(goals)}`);
    const result = {
      bench: 'events', quick, date: new Date().toISOString(), node: process.version,
      ceilings: { rawDrain: drain, grpcPrebuilt1: ceiling1, grpcPrebuilt10: ceiling10, grpcPreEncoded1: bytes1, grpcPreEncoded10: bytes10 },
      pipeline: { saturated1: sat1, paced1, saturated10: sat10, paced10 },
      ratios, goals,
    };
    const out = new URL('../results/', import.meta.url).pathname;
    mkdirSync(out, { recursive: true });
    writeFileSync(`${out}events.json`, `${JSON.stringify(result, null, 2)}\n`);
    console.log('wrote bench/results/events.json');
  } finally {
    await emu.stop();
  }
}

await main();
