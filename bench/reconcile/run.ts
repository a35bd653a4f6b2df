/**
 * bench:reconcile — the agent's reconcile loop at scale, on the emulator:
 * - cold converge: agent start → 100k rules from 1k policy files in the driver;
 * - one change: one policy file rewritten → driver generation bumped (debounce reported apart);
 * - idle resync: a full read-back of 100k rules that must issue no writes;
 * - RSS of the agent process holding 100k rules.
 * Goals (issue 4): cold ≤ 1 s, one change ≤ 10 ms + debounce, idle resync ≤ 150 ms, RSS ≤ 200 MB.
 *
 *   npm run bench:reconcile [-- --quick]     (quick: 20k rules from 200 files)
 *
 * Writes bench/results/reconcile.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfig } from '../../controller/config/index.js';
import { MemoryLogger } from '../../controller/observability/index.js';
import { startAgentRuntime, type AgentRuntime } from '../../controller/agent/runtime.js';
import { startEmulator, type EmulatorFixture } from '../../test/emulator.js';
import type { DriverClient } from '../../driver/client/index.js';

const quick = process.argv.includes('--quick');
const FILES = quick ? 200 : 1000;
const RULES_PER_FILE = 100;
const DEBOUNCE_MS = 5;
const CHANGES = quick ? 10 : 30;

function policy(file: number, variant = 0): string {
  const paths = Array.from({ length: RULES_PER_FILE }, (_, i) =>
    `      - path: C:\\Apps\\app${file}\\v${variant}\\bin\\tool${i}.exe`).join('\n');
  return `apiVersion: security.kubearmor.com/v1
kind: KubeArmorHostPolicy
metadata:
  name: bench-${file}
spec:
  nodeSelector:
    matchLabels:
      kubernetes.io/os: windows
  severity: 5
  file:
    matchPaths:
${paths}
  action: Block
`;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out: ${what}`);
    await sleep(1);
  }
}

interface Setup { root: string; dir: string; emulator: EmulatorFixture; probe: DriverClient; runtime?: AgentRuntime }

async function coldConverge(s: Setup): Promise<{ ms: number; rules: number }> {
  const config = parseConfig(JSON.stringify({
    hostName: 'bench', stateDir: join(s.root, 'state'),
    driver: { kind: 'emulator', device: s.emulator.device, port: s.emulator.port, emulator: { dir: s.emulator.dir, library: s.emulator.library } },
    sources: { files: { enabled: true, paths: [s.dir], debounceMs: DEBOUNCE_MS }, grpc: { enabled: false } },
    grpc: { address: '127.0.0.1:0' }, metrics: { enabled: false, address: '127.0.0.1:0' },
    reconcile: { resyncIntervalSeconds: 3600 }, logging: { level: 'warn' },
  }));
  const started = performance.now();
  s.runtime = await startAgentRuntime({ config, logger: new MemoryLogger(), watchConfig: false });
  await until(() => s.runtime!.view.reconcile.firstApplyDone, 'first apply');
  const ms = performance.now() - started;
  return { ms, rules: (await s.probe.getState()).ruleCount };
}

async function oneChange(s: Setup): Promise<number[]> {
  const samples: number[] = [];
  for (let i = 0; i < CHANGES; i++) {
    const before = (await s.probe.getState()).generation;
    const t0 = performance.now();
    writeFileSync(join(s.dir, `p${i % FILES}.yaml`), policy(i % FILES, i + 1));
    await until(async () => (await s.probe.getState()).generation !== before, 'generation bump', 10_000);
    samples.push(performance.now() - t0);
    await s.runtime!.agent.whenIdle();
  }
  return samples;
}

async function idleResync(s: Setup): Promise<{ ms: number[]; writes: bigint }> {
  const agent = s.runtime!.agent;
  const before = (await s.probe.getState()).generation;
  const ms: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    agent.resyncNow();
    await agent.whenIdle();
    ms.push(performance.now() - t0);
  }
  return { ms, writes: (await s.probe.getState()).generation - before };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const r1 = (x: number): number => Math.round(x * 10) / 10;

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'kawin-bench-reconcile-'));
  const dir = join(root, 'policies');
  mkdirSync(dir);
  for (let f = 0; f < FILES; f++) writeFileSync(join(dir, `p${f}.yaml`), policy(f));
  const emulator = await startEmulator();
  const s: Setup = { root, dir, emulator, probe: await emulator.client() };
  try {
    const cold = await coldConverge(s);
    const rssMb = process.memoryUsage().rss / 2 ** 20;
    const change = await oneChange(s);
    const resync = await idleResync(s);
    const result = {
      quick, files: FILES, rules: cold.rules,
      coldConvergeMs: r1(cold.ms),
      oneChangeMs: { median: r1(median(change)), max: r1(Math.max(...change)), debounceMs: DEBOUNCE_MS, samples: change.length },
      oneChangeMinusDebounceMs: r1(median(change) - DEBOUNCE_MS),
      idleResyncMs: { median: r1(median(resync.ms)), max: r1(Math.max(...resync.ms)) },
      idleResyncWrites: Number(resync.writes),
      rssMb: r1(rssMb),
      goals: { coldConvergeMs: 1000, oneChangeMinusDebounceMs: 10, idleResyncMs: 150, rssMb: 200 },
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
    writeFileSync(new URL('../results/reconcile.json', import.meta.url), `${JSON.stringify(result, null, 2)}\n`);
  } finally {
    await s.runtime?.stop();
    await emulator.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
