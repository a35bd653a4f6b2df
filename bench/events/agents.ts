/**
 * The agent side of bench:events: the emulator's events through DriverClient.events()
 * and the EventPipeline to gRPC subscribers, either through the LogBroker and kawin's
 * LogService (what ships), or through the same Outbox with the pipeline's fast encoder
 * (what the LogBroker would do with controller/events/wire.ts; see the report).
 */
import { Server, ServerCredentials, type ServerWritableStream } from '@grpc/grpc-js';
import { Registry } from 'prom-client';
import { LogServiceService } from '../../proto/gen/feeder.js';
import { EventPipeline, publisherSink, type AlertRecord, type EventSink } from '../../controller/events/index.js';
import { encodeAlert } from '../../controller/events/wire.js';
import { LogBroker, logServiceBinding } from '../../controller/grpc/logs/index.js';
import { KawinGrpcServer } from '../../controller/grpc/server.js';
import { Outbox, type StreamCounters } from '../../controller/grpc/stream/outbox.js';
import type { RuleProvenance } from '../../controller/policy/provenance.js';
import type { DriverClient } from '../../driver/client/index.js';
import type { EmulatorFixture } from '../../test/emulator.js';
import { clientRate, sleep, Subscribers } from './subscribers.js';

const LOAD_RULE_BASE = 0x4c4f414400000000n; // the emulator's load generator rule ids (+1..16)
const SUBSCRIBER_QUEUE = 65_536;
const SUSTAINED_SHARE = 0.9;

/**
 * CPU time of this process (all threads: port reader, decoding, pipeline, gRPC) per
 * event, and what that makes on one dedicated core: robust when other work shares the
 * machine and wall-clock rates are not.
 */
export function cpuFigures(used: NodeJS.CpuUsage, events: number) {
  const micros = (used.user + used.system) / Math.max(1, events);
  return { cpuMicrosPerEvent: +micros.toFixed(2), eventsPerCpuSecond: Math.round(1e6 / micros) };
}

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

interface Fanout {
  sink: EventSink;
  target: string;
  subscribers(): number;
  dropped(): number;
  stop(): Promise<void>;
}

async function brokerFanout(): Promise<Fanout> {
  const broker = new LogBroker({ queueSize: SUBSCRIBER_QUEUE, notice: { hostName: 'bench-node', clusterName: 'default' } });
  const server = new KawinGrpcServer({ address: '127.0.0.1:0', shutdownGraceMs: 500 }, [logServiceBinding(broker)]);
  const port = await server.start();
  return {
    sink: publisherSink(broker), target: `127.0.0.1:${port}`,
    subscribers: () => broker.subscriberCount('alerts'), dropped: () => broker.counters.alerts.dropped,
    stop: () => server.stop(),
  };
}

async function fastFanout(): Promise<Fanout> {
  const outboxes = new Set<Outbox>();
  const counters: StreamCounters = { sent: 0, dropped: 0 };
  const server = new Server();
  server.addService({ ...LogServiceService, watchAlerts: { ...LogServiceService.watchAlerts, responseSerialize: (b: Buffer) => b } }, {
    healthCheck: () => undefined, watchMessages: () => undefined, watchLogs: () => undefined,
    watchAlerts: (call: ServerWritableStream<unknown, Buffer>) => {
      const outbox = new Outbox(call, { capacity: SUBSCRIBER_QUEUE, counters });
      outboxes.add(outbox);
      const end = () => { outbox.close(); outboxes.delete(outbox); };
      call.on('cancelled', end);
      call.on('close', end);
      call.on('error', end);
    },
  });
  const port = await new Promise<number>((res, rej) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const sink: EventSink = {
    alert: (a) => { if (outboxes.size === 0) return; const bytes = encodeAlert(a); for (const o of outboxes) o.push(bytes); },
    log() {}, message() {},
  };
  return { sink, target: `127.0.0.1:${port}`, subscribers: () => outboxes.size, dropped: () => counters.dropped, stop: async () => { server.forceShutdown(); } };
}

export type FanoutKind = 'broker' | 'fast-encoder';

/** Provenance of the load generator's 16 rules, as the compiler would provide it. */
function loadProvenance(): { lookup(id: bigint): RuleProvenance | undefined } {
  const provenance = new Map<bigint, RuleProvenance>();
  for (let i = 1n; i <= 16n; i++) {
    provenance.set(LOAD_RULE_BASE + i, { ruleId: LOAD_RULE_BASE + i, action: 'Audit', origins: [{ kind: 'KubeArmorHostPolicy', policy: `load-policy-${i}`, severity: 5, tags: ['bench', 'load'], message: 'load' }] });
  }
  return { lookup: (id) => provenance.get(id) };
}

export async function startAgent(driver: DriverClient, kind: FanoutKind) {
  const fanout = kind === 'broker' ? await brokerFanout() : await fastFanout();
  const timing = new Timing();
  const pipeline = new EventPipeline({
    hostName: 'bench-node', clusterName: 'default', provenance: loadProvenance(), paths: driver.paths,
    hostTelemetry: false, allowAlerts: false, sinks: [fanout.sink, timing], registry: new Registry(),
  });
  const ac = new AbortController();
  const running = pipeline.run(driver.events({ signal: ac.signal }), ac.signal);
  await sleep(200); // the port connects
  return { kind, fanout, pipeline, timing, async stop() { ac.abort(); await running; await fanout.stop(); } };
}

export type Agent = Awaited<ReturnType<typeof startAgent>>;

/** `count` generated events at `rate`/s (0: as fast as the generator goes) to `clients` subscribers. */
export async function throughPipeline(emu: EmulatorFixture, agent: Agent, count: number, clients: number, rate: number) {
  const subs = await Subscribers.start(agent.fanout.target, clients);
  while (agent.fanout.subscribers() < clients) await sleep(20);
  const before = { ...agent.pipeline.stats().dropped, fanout: agent.fanout.dropped() };
  agent.timing.reset();
  const cpu = process.cpuUsage();
  await emu.machine.generateLoad(count, rate, true);
  const r = await subs.settle(count);
  const used = process.cpuUsage(cpu);
  await subs.stop();
  while (agent.fanout.subscribers() > 0) await sleep(20);
  const after = agent.pipeline.stats().dropped;
  const atClient = clientRate(r);
  const serverSeconds = (agent.timing.last - agent.timing.first) / 1000;
  const loss = {
    driver: after.driver - before.driver,
    pipeline: after.pipeline - before.pipeline,
    subscriberQueues: agent.fanout.dropped() - before.fanout,
    missingAtClients: clients * count - atClient.received,
  };
  return {
    clients, rate: rate || 'max', generated: count, published: agent.timing.alerts,
    pipelineEventsPerSecond: serverSeconds > 0 ? Math.round(agent.timing.alerts / serverSeconds) : 0,
    perSubscriber: atClient.perSubscriber, seconds: atClient.seconds, received: atClient.received,
    /** Agent-process CPU per published event (subscriber process not included). */
    agentCpu: cpuFigures(used, agent.timing.alerts), loss,
    lossless: loss.missingAtClients === 0,
    /** Lossless and delivered at (nearly) the offered rate: not just absorbed by the queues. */
    sustained: loss.missingAtClients === 0 && rate > 0 && atClient.perSubscriber >= SUSTAINED_SHARE * rate,
    checkErrors: r.errors,
  };
}

export type Step = Awaited<ReturnType<typeof throughPipeline>>;

export interface SweepPlan {
  clients: number;
  /** Generator rates, increasing. */
  rates: number[];
  seconds: number;
  /** Stop after this many steps that were not sustained (saturation reached). */
  stopAfter: number;
}

/** Drive the pipeline at increasing rates until it saturates. */
export async function sweep(emu: EmulatorFixture, agent: Agent, plan: SweepPlan, log: (s: Step) => void) {
  const steps: Step[] = [];
  let missed = 0;
  for (const rate of plan.rates) {
    const step = await throughPipeline(emu, agent, Math.round(rate * plan.seconds), plan.clients, rate);
    log(step);
    steps.push(step);
    if (!step.sustained && ++missed >= plan.stopAfter) break;
  }
  const sustained = steps.filter((s) => s.sustained);
  return {
    clients: plan.clients, fanout: agent.kind, steps,
    sustainedZeroLossRate: sustained.length ? Math.max(...sustained.map((s) => s.rate as number)) : 0,
    peakDeliveredPerSubscriber: Math.max(...steps.map((s) => s.perSubscriber)),
  };
}

/**
 * The pipeline's own capacity, no gRPC: DriverClient.events() → EventPipeline → a sink
 * that encodes each alert with the fast encoder, the generator at `rate` (0: a burst at
 * full speed, which also measures the queue overflowing). The rate is alerts built per
 * second between the first and the last.
 */
export async function pipelineAlone(emu: EmulatorFixture, count: number, rate: number) {
  const driver = await emu.client();
  const timing = new Timing();
  let bytes = 0;
  const encoding: EventSink = { alert: (a) => { bytes += encodeAlert(a).length; }, log() {}, message() {} };
  const pipeline = new EventPipeline({
    hostName: 'bench-node', clusterName: 'default', provenance: loadProvenance(), paths: driver.paths,
    hostTelemetry: false, allowAlerts: false, sinks: [encoding, timing], registry: new Registry(),
  });
  const ac = new AbortController();
  const running = pipeline.run(driver.events({ signal: ac.signal }), ac.signal);
  await sleep(200);
  const settle = async () => { let last = -1; while (timing.alerts !== last) { last = timing.alerts; await sleep(300); } };
  await emu.machine.generateLoad(Math.min(count, 50_000), 0, true); // warm up the JIT, not measured
  await settle();
  timing.reset();
  const before = pipeline.stats().dropped;
  const cpu = process.cpuUsage();
  await emu.machine.generateLoad(count, rate, true);
  await settle();
  const used = process.cpuUsage(cpu);
  ac.abort();
  await running;
  await driver.close();
  const seconds = (timing.last - timing.first) / 1000;
  const after = pipeline.stats().dropped;
  return {
    generated: count, rate: rate || 'max', alerts: timing.alerts, encodedBytes: bytes, seconds: +seconds.toFixed(3),
    eventsPerSecond: Math.round(timing.alerts / seconds),
    ...cpuFigures(used, timing.alerts),
    dropped: { driver: after.driver - before.driver, pipeline: after.pipeline - before.pipeline },
  };
}
