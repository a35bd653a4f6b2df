// Policy benchmark: parse + validate + compile of 1k host policies holding 100k rules
// (as YAML files, and as the JSON the API server sends), then the incremental
// recompile of one changed policy in that set. YAML is read as the agent reads it (the
// common-shape reader, js-yaml's event parser for anything else), JSON by JSON.parse.
// Wall and CPU times
// are printed with the machine's speed and load average (../host.ts): on a shared machine
// the CPU time of this process is the steadier figure, and it still moves with the host. The figure of the agent's worker threads runs from the compiled
// build, as the agent runs them (./workers.ts). Prints figures; a full run writes
// bench/results/policy.json. `--quick` runs fewer repetitions (under a minute).
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { constructFromEvents, load, parseEvents } from 'js-yaml';
import { performance } from 'node:perf_hooks';
import { Flavor } from '../../driver/abi/types.js';
import { NodeRuleSet, POLICY_LIMITS, parsePolicies, type ParseOptions, type Policy } from '../../controller/policy/index.js';
import { YAML_SCHEMA } from '../../controller/policy/yaml.js';
import { readTexts } from '../reconcile/reader.js';
import { execFileSync } from 'node:child_process';
import { packageFile } from '../../driver/package-files/index.js';
import { AGENT_NODE_OPTIONS } from '../../controller/agent/node-flags.js';
// @ts-expect-error: plain ESM script without types
import { buildDist } from '../../scripts/build.mjs';
import { RULES_PER_POLICY, policyText } from './texts.js';
import type { WorkerFigures } from './workers.js';
import { describeHost, watchHost } from '../host.js';

const quick = process.argv.includes('--quick');
const POLICIES = 1000;
const FULL_RUNS = quick ? 3 : 7;
const INCREMENTAL_RUNS = quick ? 50 : 200;

function parseOne(text: string, location: string, options: ParseOptions = {}): Policy {
  const doc = parsePolicies(text, location, options).documents[0];
  if (!doc?.policy) throw new Error(`${location}: ${JSON.stringify(doc?.problems ?? [])}`);
  return doc.policy;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const options = { flavor: Flavor.Windows, nodeLabels: { 'kubernetes.io/os': 'windows' } };
const yamlTexts = Array.from({ length: POLICIES }, (_, i) => policyText(i));
const jsonTexts = yamlTexts.map((t) => JSON.stringify(load(t)));
const bytes = yamlTexts.reduce((n, t) => n + Buffer.byteLength(t), 0);

interface FullRun { parseMs: number; compileMs: number; totalMs: number; cpuMs: number; parseCpuMs: number; set?: NodeRuleSet }

const cpuMs = (since: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1000;
};

function fullRun(texts: string[], keep = false, parse: ParseOptions = {}): FullRun {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const policies = texts.map((t, i) => parseOne(t, `bench-${i}.yaml`, parse));
  const t1 = performance.now();
  const parseCpuMs = cpuMs(c0);
  const set = new NodeRuleSet(options);
  for (const p of policies) set.apply(p);
  const t2 = performance.now();
  // Only the last run's set is kept: retained sets would slow the next runs' GC.
  return { parseMs: t1 - t0, compileMs: t2 - t1, totalMs: t2 - t0, cpuMs: cpuMs(c0), parseCpuMs, ...(keep ? { set } : {}) };
}

/**
 * The floors under the YAML figure, measured interleaved with the full runs so load hits
 * all alike: the texts turned into values as the agent reads them (splitDocuments: here
 * the common-shape reader), nothing else of kawin's; and js-yaml's event parser with
 * construction (core schema and merge keys), the path of texts outside the common shape.
 */
function readerOnlyCpuMs(texts: string[]): number {
  const c0 = process.cpuUsage();
  readTexts(texts);
  return cpuMs(c0);
}
function jsYamlCpuMs(texts: string[]): number {
  const c0 = process.cpuUsage();
  for (const text of texts) constructFromEvents(parseEvents(text, { maxDepth: POLICY_LIMITS.maxDepth }), { source: text, schema: YAML_SCHEMA });
  return cpuMs(c0);
}

const host = watchHost();
const fullJson = Array.from({ length: FULL_RUNS }, () => fullRun(jsonTexts));
const full: FullRun[] = [];
const readerOnly: number[] = [];
const jsYamlOnly: number[] = [];
for (let i = 0; i < FULL_RUNS; i++) {
  readerOnly.push(readerOnlyCpuMs(yamlTexts));
  jsYamlOnly.push(jsYamlCpuMs(yamlTexts));
  full.push(fullRun(yamlTexts, i === FULL_RUNS - 1));
}
const set = full[full.length - 1]!.set!;
const ruleCount = set.rules().size;
if (ruleCount !== POLICIES * RULES_PER_POLICY) throw new Error(`expected ${POLICIES * RULES_PER_POLICY} rules, got ${ruleCount}`);

// One policy alternates between two versions: parse + validate + compile + merge.
const incremental: number[] = [];
const versions = [policyText(500, 1), policyText(500, 0)];
for (let k = 0; k < INCREMENTAL_RUNS; k++) {
  const t0 = performance.now();
  const { change } = set.apply(parseOne(versions[k % 2]!, 'bench-500.yaml'));
  incremental.push(performance.now() - t0);
  if (change.added.length !== 90 || change.removed.length !== 90) throw new Error('unexpected change size');
}

// The same YAML texts parsed, validated and translated by the agent's worker pool, from
// the compiled build in a process of its own, with the agent's V8 options (./workers.ts):
// through tsx each worker thread would start tsx too (~650 ms CPU of its own).
async function workerRuns(): Promise<WorkerFigures> {
  await buildDist({ quiet: true, extraEntries: { 'bench-policy-workers': 'bench/policy/workers.ts' } });
  const out = execFileSync(process.execPath, [...AGENT_NODE_OPTIONS, packageFile('dist/bench-policy-workers.js').pathname, String(POLICIES)], { encoding: 'utf8' });
  return JSON.parse(out.trim().split('\n').pop()!) as WorkerFigures;
}
const inWorkers = await workerRuns();
const hostReading = host.end();

const figures = {
  policies: POLICIES,
  rules: ruleCount,
  inputMiB: +(bytes / 1048576).toFixed(2),
  fullMs: +median(full.map((r) => r.totalMs)).toFixed(1),
  fullParseValidateMs: +median(full.map((r) => r.parseMs)).toFixed(1),
  fullCompileMergeMs: +median(full.map((r) => r.compileMs)).toFixed(1),
  fullBestMs: +Math.min(...full.map((r) => r.totalMs)).toFixed(1),
  fullCpuMs: +median(full.map((r) => r.cpuMs)).toFixed(1),
  fullBestCpuMs: +Math.min(...full.map((r) => r.cpuMs)).toFixed(1),
  fullParseValidateCpuMs: +median(full.map((r) => r.parseCpuMs)).toFixed(1),
  goalFullMs: 500,
  readerOnlyCpuMs: +median(readerOnly).toFixed(1),
  readerOnlyBestCpuMs: +Math.min(...readerOnly).toFixed(1),
  jsYamlCpuMs: +median(jsYamlOnly).toFixed(1),
  jsYamlBestCpuMs: +Math.min(...jsYamlOnly).toFixed(1),
  fullJsonMs: +median(fullJson.map((r) => r.totalMs)).toFixed(1),
  fullJsonBestMs: +Math.min(...fullJson.map((r) => r.totalMs)).toFixed(1),
  fullJsonParseValidateMs: +median(fullJson.map((r) => r.parseMs)).toFixed(1),
  incrementalMs: +median(incremental).toFixed(3),
  workersParseValidateTranslateMs: { firstBatchWithStartup: +inWorkers.firstMs.toFixed(1), warm: +inWorkers.warmMs.toFixed(1), workers: inWorkers.workers, note: 'wall; CPU of all threads is not comparable on a shared machine' },
  ratio: 0,
  goalRatio: 100,
  loadAverage: hostReading.loadAverage,
  hostSpeedLoopMs: hostReading.speedLoopMs,
  cpus: cpus().length,
  quick,
  runs: { full: FULL_RUNS, incremental: INCREMENTAL_RUNS },
};
figures.ratio = Math.round(figures.fullMs / figures.incrementalMs);
console.log(`policy: ${POLICIES} policies, ${ruleCount} rules, ${figures.inputMiB} MiB of YAML`);
// Medians, and the best run: on a shared machine the best is the closest to the code's own cost.
console.log(`  full parse+validate+compile: ${figures.fullMs} ms median, ${figures.fullBestMs} ms best (parse+validate ${figures.fullParseValidateMs} ms, compile+merge ${figures.fullCompileMergeMs} ms)`);
console.log(`  the same, CPU time:          ${figures.fullCpuMs} ms median, ${figures.fullBestCpuMs} ms best (parse+validate ${figures.fullParseValidateCpuMs} ms); goal ${figures.goalFullMs} ms on an idle machine ${figures.fullBestCpuMs <= figures.goalFullMs ? 'OK' : 'MISSED'}`);
console.log(`  the YAML reading alone:      ${figures.readerOnlyCpuMs} ms CPU median, ${figures.readerOnlyBestCpuMs} ms best (common-shape reader; ${Math.round((100 * figures.readerOnlyBestCpuMs) / figures.goalFullMs)}% of the goal; the rest of kawin ${(figures.fullBestCpuMs - figures.readerOnlyBestCpuMs).toFixed(0)} ms)`);
console.log(`  js-yaml's event parser:      ${figures.jsYamlCpuMs} ms CPU median, ${figures.jsYamlBestCpuMs} ms best on the same texts (the path of YAML outside the common shape)`);
console.log(`  the same as JSON:            ${figures.fullJsonMs} ms median, ${figures.fullJsonBestMs} ms best (parse+validate ${figures.fullJsonParseValidateMs} ms)`);
console.log(`  one changed policy (YAML):   ${figures.incrementalMs} ms`);
console.log(`  YAML in ${inWorkers.workers} worker threads:    parse+validate+translate ${figures.workersParseValidateTranslateMs.warm} ms wall warm, ${figures.workersParseValidateTranslateMs.firstBatchWithStartup} ms with the threads' start-up (main thread: parse+validate ${figures.fullParseValidateMs} ms inline)`);
console.log(`  ${describeHost(hostReading)}, ${figures.cpus} CPUs`);
console.log(`  ratio full/incremental:      ${figures.ratio}x (goal >= ${figures.goalRatio}x) ${figures.ratio >= figures.goalRatio ? 'OK' : 'BELOW GOAL'}`);
// Only a full run is recorded (a quick one runs fewer repetitions).
if (!quick) {
  mkdirSync(new URL('../results/', import.meta.url), { recursive: true });
  writeFileSync(new URL('../results/policy.json', import.meta.url), `${JSON.stringify(figures, null, 2)}\n`);
}
