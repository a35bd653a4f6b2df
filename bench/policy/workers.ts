/**
 * The worker figure of bench:policy, run from the compiled build (dist/, as the agent
 * runs its workers): the same YAML texts parsed, validated and translated by the agent's
 * prepare pool (one thread per CPU), wall time. The first batch includes the threads'
 * start-up, the second reuses them (hydration on the main thread is not included).
 * Prints one JSON line; bench/policy/run.ts builds and starts it.
 */
import { Flavor } from '../../driver/abi/types.js';
import { PolicyCompiler } from '../../controller/policy/compiler.js';
import { PreparePool } from '../../controller/policy/prepare-pool.js';
import { policyText } from './texts.js';

export interface WorkerFigures { firstMs: number; warmMs: number; workers: number }

const count = Number(process.argv[2] ?? 1000);
const compiler = new PolicyCompiler({ flavor: Flavor.Windows, nodeLabels: { 'kubernetes.io/os': 'windows' } });
const texts = Array.from({ length: count }, (_, i) => ({ text: policyText(i), location: `bench-${i}.yaml` }));
const t0 = performance.now();
const pool = new PreparePool();
await pool.prepare(texts, compiler.translation, () => undefined);
const firstMs = performance.now() - t0;
const t1 = performance.now();
await pool.prepare(texts, compiler.translation, () => undefined);
const warmMs = performance.now() - t1;
await pool.close();
console.log(JSON.stringify({ firstMs, warmMs, workers: pool.size } satisfies WorkerFigures));
