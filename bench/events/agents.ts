/**
 * The agent side of bench:events: the emulator's events through DriverClient.events()
 * and the EventPipeline, through the LogBroker and kawin's LogService, to gRPC
 * subscribers; and the pipeline's own capacity without gRPC.
 */
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Registry } from 'prom-client';
import { EventPipeline, publisherSink, type AlertRecord, type EventSink } from '../../controller/events/index.js';
import { encodeAlert, LogBroker, logServiceBinding } from '../../controller/grpc/logs/index.js';
import { KawinGrpcServer } from '../../controller/grpc/server.js';
import type { DriverClient } from '../../driver/client/index.js';
import { Decision, EventType, type DriverEvent } from '../../driver/abi/types.js';
import { DosPathTranslator, type HostEventBatch } from '../../driver/client/index.js';
import { HostEventConverter } from '../../driver/client/host-event.js';
import type { EmulatorFixture } from '../../test/emulator.js';
import { clientRate, sleep, Subscribers, untilFlowing } from './subscribers.js';
import { emulatorStatus } from '../../driver/emulator/index.js';
import { watchCpu } from './cpu.js';
import { loadProvenance, loadRuleSet } from './load-policies.js';

const SUBSCRIBER_QUEUE = 65_536;
const SUSTAINED_SHARE = 0.9;
/** Events queued in the core run before the feeder lets the builder catch up. */
const CORE_BACKLOG = 8192;

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
    subscribers: () => broker.subscriberCount('alerts'), dropped: () => broker.dropped('alerts'),
    stop: () => server.stop(),
  };
}

export async function startAgent(emu: EmulatorFixture, driver: DriverClient) {
  const fanout = await brokerFanout();
  const timing = new Timing();
  const pipeline = new EventPipeline({
    hostName: 'bench-node', clusterName: 'default', provenance: await loadProvenance(driver),
    hostTelemetry: false, allowAlerts: false, sinks: [fanout.sink, timing], registry: new Registry(),
  });
  const ac = new AbortController();
  const running = pipeline.run(driver.events({ signal: ac.signal }), ac.signal);
  await untilFlowing((n) => emu.machine.generateLoad(n), () => timing.alerts);
  return { fanout, pipeline, timing, async stop() { ac.abort(); await running; await fanout.stop(); } };
}

export type Agent = Awaited<ReturnType<typeof startAgent>>;

export interface Load {
  count: number;
  clients: number;
  /** Events per second (0: as fast as the generator goes). */
  rate: number;
  /** The subscribers' HTTP/2 receive window in bytes (0: grpc-js's default). */
  window?: number;
}

/** `count` generated events at `rate`/s to `clients` subscribers. */
export async function throughPipeline(emu: EmulatorFixture, agent: Agent, { count, clients, rate, window = 0 }: Load) {
  const subs = await Subscribers.start(agent.fanout.target, clients, window);
  while (agent.fanout.subscribers() < clients) await sleep(20);
  const before = { ...agent.pipeline.stats().dropped, fanout: agent.fanout.dropped() };
  agent.timing.reset();
  const cpu = process.cpuUsage();
  const processes = watchCpu({ agent: process.pid, subscriber: subs.pid, emulator: daemonPid(emu) });
  await emu.machine.generateLoad(count, rate, true);
  const r = await subs.settle(count);
  const used = process.cpuUsage(cpu);
  const atClient = clientRate(r);
  const processCpu = processes.stop(count);
  await subs.stop();
  while (agent.fanout.subscribers() > 0) await sleep(20);
  const after = agent.pipeline.stats().dropped;
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
    agentCpu: cpuFigures(used, agent.timing.alerts),
    /** CPU µs per generated event of each process (and of the agent's threads), from /proc. */
    processCpu, loss,
    lossless: loss.missingAtClients === 0,
    /** Lossless and delivered at (nearly) the offered rate: not just absorbed by the queues. */
    sustained: loss.missingAtClients === 0 && rate > 0 && atClient.perSubscriber >= SUSTAINED_SHARE * rate,
    checkErrors: r.errors,
  };
}

/** The emulated kernel's daemon: the load generator, the ring, the port (the kernel's share on Windows). */
export function daemonPid(emu: EmulatorFixture): number {
  const { pid } = emulatorStatus(emu.dir);
  if (pid === undefined) throw new Error(`no kawin-driverd pid under ${emu.dir}`);
  return pid;
}

export type Step = Awaited<ReturnType<typeof throughPipeline>>;

export interface SweepPlan {
  clients: number;
  /** Generator rates, increasing. */
  rates: number[];
  seconds: number;
  /** Stop after this many steps that were not sustained (saturation reached). */
  stopAfter: number;
  /** The subscribers' HTTP/2 receive window in bytes (0: grpc-js's default). */
  window?: number;
}

/** Drive the pipeline at increasing rates until it saturates. */
export async function sweep(emu: EmulatorFixture, agent: Agent, plan: SweepPlan, log: (s: Step) => void) {
  const steps: Step[] = [];
  let missed = 0;
  for (const rate of plan.rates) {
    const step = await throughPipeline(emu, agent, { count: Math.round(rate * plan.seconds), clients: plan.clients, rate, window: plan.window });
    log(step);
    steps.push(step);
    if (!step.sustained && ++missed >= plan.stopAfter) break;
  }
  const sustained = steps.filter((s) => s.sustained);
  return {
    clients: plan.clients, steps,
    sustainedZeroLossRate: sustained.length ? Math.max(...sustained.map((s) => s.rate as number)) : 0,
    peakDeliveredPerSubscriber: Math.max(...steps.map((s) => s.perSubscriber)),
  };
}

/**
 * The pipeline's own capacity, no gRPC: DriverClient.events() → EventPipeline → a sink
 * that encodes each alert as the LogBroker does, the generator at `rate` (0: a burst at
 * full speed, which also measures the queue overflowing). The rate is alerts built per
 * second between the first and the last.
 */
export async function pipelineAlone(emu: EmulatorFixture, count: number, rate: number) {
  const driver = await emu.client();
  const timing = new Timing();
  let bytes = 0;
  const encoding: EventSink = { alert: (a) => { bytes += encodeAlert(a).length; }, log() {}, message() {} };
  const pipeline = new EventPipeline({
    hostName: 'bench-node', clusterName: 'default', provenance: await loadProvenance(driver),
    hostTelemetry: false, allowAlerts: false, sinks: [encoding, timing], registry: new Registry(),
  });
  const ac = new AbortController();
  const running = pipeline.run(driver.events({ signal: ac.signal }), ac.signal);
  await untilFlowing((n) => emu.machine.generateLoad(n), () => timing.alerts);
  const settle = async () => { let last = -1; while (timing.alerts !== last) { last = timing.alerts; await sleep(300); } };
  await emu.machine.generateLoad(Math.min(count, 50_000), 0, true); // warm up the JIT, not measured
  await settle();
  timing.reset();
  const before = pipeline.stats().dropped;
  const lag = monitorEventLoopDelay({ resolution: 1 });
  lag.enable();
  const cpu = process.cpuUsage();
  await emu.machine.generateLoad(count, rate, true);
  lag.disable(); // the stalls while events arrive (settle() below only waits)
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
    /** Main-thread stalls while the events arrived (monitorEventLoopDelay), ms. */
    eventLoopDelay: { maxMs: +(lag.max / 1e6).toFixed(2), p99Ms: +(lag.percentile(99) / 1e6).toFixed(2) },
  };
}

/**
 * The pipeline's own cost without the port or gRPC: decoded driver events shaped like the
 * load generator's (two-byte strings, as the port decoder makes them) built just before
 * they are handed over (CPU excluded), then what the main thread does with them: the
 * driver client's conversion to HostEvents (DOS paths, Unix time), EventPipeline, the
 * LogBroker's encoding.
 */
export async function pipelineCore(count: number) {
  const two = (s: string) => Buffer.from(s, 'utf16le').toString('utf16le');
  const image = '\\Device\\HarddiskVolume3\\Windows\\System32\\kawin-load.exe';
  const t0 = 133_000_000_000_000_000n;
  const rules = loadRuleSet();
  const ids = [...rules.rules().values()].map((r) => ({ id: r.id, dir: r.target.path.replace(/^C:/, '\\Device\\HarddiskVolume3') }));
  const make = (i: number): DriverEvent => ({
    type: EventType.FileOpen, decision: Decision.Audit, time: t0 + BigInt(i * 50), ruleId: ids[i % ids.length]!.id,
    processId: 7000 + (i % 8) * 4, parentProcessId: 4, threadId: 7004 + (i % 8) * 4, status: 0, desiredAccess: 1,
    sessionId: 0, newProcessId: 0, parentImagePath: '', currentDirectory: '',
    targetPath: two(`${ids[i % ids.length]!.dir}kawin-load-${String(i % 1_000_000).padStart(6, '0')}.dat`),
    imagePath: two(image), commandLine: '', userSid: two('S-1-5-18'),
  });
  let bytes = 0;
  const timing = new Timing();
  const encoding: EventSink = { alert: (a) => { bytes += encodeAlert(a).length; }, log() {}, message() {} };
  const pipeline = new EventPipeline({
    hostName: 'bench-node', clusterName: 'default', provenance: rules,
    hostTelemetry: false, allowAlerts: false, sinks: [encoding, timing], registry: new Registry(),
  });
  const translator = new DosPathTranslator(new Map([['C:', '\\Device\\HarddiskVolume3']]));
  const host = new HostEventConverter(() => translator, 8192);
  let makingCpu = 0;
  async function* batches(): AsyncGenerator<HostEventBatch> {
    for (let i = 0; i < count; i += 240) {
      const c = process.cpuUsage();
      const events: DriverEvent[] = [];
      for (let j = i; j < Math.min(count, i + 240); j++) events.push(make(j));
      const d = process.cpuUsage(c);
      makingCpu += d.user + d.system;
      yield { dropped: 0n, firstSequence: BigInt(i + 1), events: events.map((e) => host.convert(e)), pathCacheEvictions: host.takeEvictions() };
      // Let the builder run, as a reader waiting on the port would: without this the
      // queue overflows and the figure would be the cost of dropping, not building.
      if (pipeline.stats().queued >= CORE_BACKLOG) await sleep(0);
    }
  }
  const cpu = process.cpuUsage();
  const start = performance.now();
  await pipeline.run(batches());
  const seconds = (performance.now() - start) / 1000;
  const used = process.cpuUsage(cpu);
  return {
    events: count, alerts: timing.alerts, encodedBytes: bytes, dropped: pipeline.stats().dropped,
    eventsPerSecond: Math.round(timing.alerts / seconds),
    ...cpuFigures({ user: used.user + used.system - makingCpu, system: 0 }, timing.alerts),
  };
}
