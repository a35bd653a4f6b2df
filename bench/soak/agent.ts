/**
 * The soak run's agent: `kawin agent` as its own process (as users run it), configured
 * against the bench's emulator, with the load policies as files; sampled from outside
 * (/proc for RSS, its /metrics for the V8 heap and event counters).
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { EmulatorFixture } from '../../test/emulator.js';
import { LOAD_POLICIES, policyText } from '../events/load-policies.js';
import { freePort } from '../../test/net.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function metricValue(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : Number.NaN;
}

/** `grpc`: extra gRPC settings (e.g. maxSubscribers) over the defaults. */
export async function startSoakAgent(emu: EmulatorFixture, grpc: Record<string, unknown> = {}) {
  const root = mkdtempSync(join(tmpdir(), 'kawin-soak-'));
  const policyDir = join(root, 'policies');
  mkdirSync(policyDir);
  for (let i = 0; i < LOAD_POLICIES; i++) writeFileSync(join(policyDir, `load-policy-${i}.yaml`), policyText(i));
  const grpcPort = await freePort();
  const metricsPort = await freePort();
  const config = {
    hostName: 'soak-node', stateDir: join(root, 'state'),
    driver: { kind: 'emulator', device: emu.device, port: emu.port, emulator: { dir: emu.dir, library: emu.library, flavor: 'windows' } },
    sources: { files: { enabled: true, paths: [policyDir] }, grpc: { enabled: false } },
    grpc: { address: `127.0.0.1:${grpcPort}`, ...grpc },
    metrics: { enabled: true, address: `127.0.0.1:${metricsPort}` },
    outputs: { stdout: { enabled: false } },
    logging: { format: 'json', level: 'warn' },
  };
  const configFile = join(root, 'config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const bin = new URL('../../bin/kawin.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [bin, 'agent', '--config', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => { stderr = (stderr + d.toString()).slice(-4000); });
  const exited = once(child, 'exit');
  const metrics = async (): Promise<string> => (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const probe = await emu.client();
  return {
    pid: child.pid!,
    metricsUrl: `http://127.0.0.1:${metricsPort}`,
    metrics,
    metricValue: (text: string, name: string, labels = '') => metricValue(text, name, labels),
    grpcTarget: `127.0.0.1:${grpcPort}`,
    async waitForRules(n: number): Promise<void> {
      const deadline = Date.now() + 60_000;
      while ((await probe.listRules()).rules.length < n) {
        if (child.exitCode !== null) throw new Error(`the agent exited (${child.exitCode}): ${stderr}`);
        if (Date.now() > deadline) throw new Error(`the agent did not apply the ${n} load rules in 60 s: ${stderr}`);
        await sleep(200);
      }
    },
    rssMB(): number {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      return m ? Number(m[1]) / 1024 : Number.NaN;
    },
    async heapMB(): Promise<number> {
      return metricValue(await metrics(), 'kawin_nodejs_heap_size_used_bytes') / 2 ** 20;
    },
    async counters() {
      const text = await metrics();
      return {
        unknownRules: metricValue(text, 'kawin_events_unknown_rule_total'),
        dropped: {
          driver: metricValue(text, 'kawin_events_dropped_total', '{stage="driver"}'),
          pipeline: metricValue(text, 'kawin_events_dropped_total', '{stage="pipeline"}'),
          subscriberQueue: metricValue(text, 'kawin_grpc_messages_dropped_total', '{stream="alerts"}') || 0,
        },
      };
    },
    async stop(): Promise<void> {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}
