/**
 * bench:startup — how fast the compiled build starts, against bare `node -e 0` measured in
 * the same run: the CLI (`kawin --help`, `kawin validate` of one file, `kawin status`
 * against a running agent), the agent's memory with no policies, and an event worker's
 * start. For contrast, `kawin validate` from the TypeScript sources through tsx.
 *
 *   npm run bench:startup [-- --quick]
 *
 * Goals (issue 8): CLI ≤ 150 ms, agent RSS ≤ 70 MB, event worker start ≤ 50 ms. Beside
 * each figure, its floor (./floor.ts): bare Node with only the libraries it cannot do
 * without, measured in the same run. A full run writes bench/results/startup.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describeHost, watchHost } from '../host.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { packageFile } from '../../driver/package-files/index.js';
// @ts-expect-error: plain ESM script without types
import { buildDist } from '../../scripts/build.mjs';
import { agentFloorRssMb, statusFloor, validateFloor } from './floor.js';
import { rssMb, startAgent, timeCommand, timeWorkerStart, type Timing } from './measure.js';
import { freePort } from '../../test/net.js';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 5 : 15;
const GOALS = { cliMs: 150, agentRssMb: 70, workerStartMs: 50 };
const BIN = packageFile('bin/kawin.js').pathname;
const POLICY = packageFile('examples/policies/block-certutil.yaml').pathname;
/** The CLI as bin/kawin.js ran it before the compiled build: TypeScript through tsx. */
const SOURCES_CLI = `const { main } = await import(${JSON.stringify(packageFile('controller/cli/main.ts').href)}); process.exitCode = await main(process.argv.slice(1));`;

function line(label: string, figure: string, goal: string, ok: boolean, extra = ''): void {
  console.log(`  ${label.padEnd(44)} ${figure.padStart(10)}   goal ${goal.padEnd(9)} ${(ok ? 'ok' : 'MISSED').padEnd(6)} ${extra}`);
}

async function agentFigures(dir: string) {
  const config = join(dir, 'config.json');
  mkdirSync(join(dir, 'policies'));
  writeFileSync(config, JSON.stringify({
    driver: { kind: 'emulator' }, sources: { files: { enabled: true, paths: ['policies'] }, grpc: { enabled: true } },
    grpc: { address: `127.0.0.1:${await freePort()}` }, metrics: { enabled: true, address: `127.0.0.1:${await freePort()}` },
    stateDir: 'state', outputs: { stdout: { enabled: true, alerts: true, logs: false } },
  }));
  const agent = await startAgent(config);
  try {
    await sleep(1000); // past start-up's transient allocations
    const rss = rssMb(agent.pid!);
    const status = timeCommand([BIN, 'status', '--config', config], RUNS);
    return { rssMb: rss, status };
  } finally {
    agent.kill('SIGTERM');
    await new Promise((r) => agent.once('exit', r));
    timeCommand([BIN, 'driver', 'stop', '--config', config], 1);
  }
}

async function main(): Promise<void> {
  await (buildDist as (o: { quiet: boolean }) => Promise<unknown>)({ quiet: true });
  console.log(`bench:startup${quick ? ' (quick)' : ''}: median of ${RUNS} runs, wall time from spawn to exit`);
  const host = watchHost();
  const bare = timeCommand(['-e', '0'], RUNS);
  const help = timeCommand([BIN, '--help'], RUNS);
  const validate = timeCommand([BIN, 'validate', POLICY], RUNS);
  const fromSources = timeCommand(['--import', 'tsx', '--input-type=module', '-e', SOURCES_CLI, 'validate', POLICY], quick ? 2 : 5);
  const dir = mkdtempSync(join(tmpdir(), 'kawin-bench-startup-'));
  let agent;
  try {
    agent = await agentFigures(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  const floor = { validate: validateFloor(RUNS), status: statusFloor(RUNS), agentRssMb: agentFloorRssMb() };
  const worker = await timeWorkerStart(packageFile('dist/port-reader.cjs'), 'port-reader', RUNS);
  const workerTsx = await timeWorkerStart(packageFile('driver/client/worker-entry.mjs'), 'port-reader', quick ? 2 : 5);

  const hostReading = host.end();
  console.log(`  ${describeHost(hostReading)}`);
  const ms = (t: Timing) => `${t.medianMs} ms`;
  const cpu = (t: Timing) => `(CPU ${t.cpuMedianMs} ms)`;
  const over = (t: Timing) => +(t.medianMs - bare.medianMs).toFixed(1);
  console.log(`  ${'bare node -e 0 (baseline)'.padEnd(44)} ${ms(bare).padStart(10)}   ${cpu(bare)}`);
  line('kawin --help', ms(help), `≤ ${GOALS.cliMs} ms`, help.medianMs <= GOALS.cliMs, cpu(help));
  line('kawin validate (one file)', ms(validate), `≤ ${GOALS.cliMs} ms`, validate.medianMs <= GOALS.cliMs, `${cpu(validate)}  floor ${ms(floor.validate)} ${cpu(floor.validate)}: node + js-yaml`);
  line('kawin status (running agent)', ms(agent.status), `≤ ${GOALS.cliMs} ms`, agent.status.medianMs <= GOALS.cliMs, `${cpu(agent.status)}  floor ${ms(floor.status)} ${cpu(floor.status)}: node + grpc-js client`);
  line('agent RSS, no policies', `${agent.rssMb} MB`, `≤ ${GOALS.agentRssMb} MB`, agent.rssMb <= GOALS.agentRssMb, `floor ${floor.agentRssMb} MB: node + koffi reader thread + grpc-js server (reflection) + prom-client + winston + js-yaml`);
  line('event worker start (compiled port reader)', ms(worker), `≤ ${GOALS.workerStartMs} ms`, worker.medianMs <= GOALS.workerStartMs, cpu(worker));
  console.log(`  for contrast, from sources through tsx: validate ${ms(fromSources)} ${cpu(fromSources)}, event worker ${ms(workerTsx)} ${cpu(workerTsx)}`);
  console.log(`  above bare node: --help +${over(help)} ms, validate +${over(validate)} ms, status +${over(agent.status)} ms`);
  const result = {
    bench: 'startup', quick, date: new Date().toISOString(), node: process.version, goals: GOALS,
    loadAverage: hostReading.loadAverage, hostSpeedLoopMs: hostReading.speedLoopMs,
    bare, cli: { help, validate, status: agent.status }, agentRssMb: agent.rssMb, workerStart: worker, floor,
    fromSources: { validate: fromSources, workerStart: workerTsx },
    aboveBareMs: { help: over(help), validate: over(validate), status: over(agent.status) },
    met: {
      cli: [help, validate, agent.status].every((t) => t.medianMs <= GOALS.cliMs),
      agentRss: agent.rssMb <= GOALS.agentRssMb,
      workerStart: worker.medianMs <= GOALS.workerStartMs,
    },
  };
  if (quick) return;
  const out = packageFile('bench/results/').pathname;
  mkdirSync(out, { recursive: true });
  writeFileSync(`${out}startup.json`, `${JSON.stringify(result, null, 2)}\n`);
  console.log('wrote bench/results/startup.json');
}

await main();
