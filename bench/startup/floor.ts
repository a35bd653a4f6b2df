/**
 * The floor under bench:startup's figures, measured in the same run: what bare Node costs
 * once it has loaded only the libraries a command cannot do without — no kawin code. A
 * figure near its floor has nothing left to remove but the libraries themselves.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { EMULATOR_LIBRARY } from '../../driver/emulator/index.js';
import { timeCommand, type Timing } from './measure.js';

const resolve = createRequire(import.meta.url).resolve;
const req = (name: string): string => `require(${JSON.stringify(resolve(name))})`;

/** `kawin validate`'s floor: Node with the YAML parser loaded. */
export function validateFloor(runs: number): Timing {
  return timeCommand(['-e', req('js-yaml')], runs);
}

/** `kawin status`'s floor: Node with the gRPC client loaded and one channel made. */
export function statusFloor(runs: number): Timing {
  return timeCommand(['-e', `const g = ${req('@grpc/grpc-js')}; new g.Client('127.0.0.1:1', g.credentials.createInsecure()).close();`], runs);
}

/**
 * The agent's floor with no policies: Node, the event port's reader thread (a worker with
 * koffi and the emulator's library loaded), a gRPC server with health and reflection, the
 * Prometheus registry with an HTTP listener, the winston logger and the YAML parser: the
 * libraries the agent holds, each doing the least it does, and RSS 1 s later.
 */
export function agentFloorRssMb(): number {
  const script = `
    const { Worker } = require('node:worker_threads');
    const w = new Worker(\`const k = ${req('koffi').replace(/[`\\]/g, '\\$&')}; k.load(${JSON.stringify(EMULATOR_LIBRARY)});
      require('node:worker_threads').parentPort.postMessage(1); Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);\`, { eval: true });
    w.once('message', () => {
      w.unref();
      const g = ${req('@grpc/grpc-js')};
      const server = new g.Server();
      ${req('@grpc/reflection')}; ${req('js-yaml')};
      server.bindAsync('127.0.0.1:0', g.ServerCredentials.createInsecure(), () => {});
      const prom = ${req('prom-client')};
      prom.collectDefaultMetrics();
      require('node:http').createServer().listen(0, '127.0.0.1');
      const winston = ${req('winston')};
      winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] }).info('started');
      setTimeout(() => { console.log(/VmRSS:\\s+(\\d+)/.exec(require('node:fs').readFileSync('/proc/self/status', 'utf8'))[1]); process.exit(0); }, 1000);
    });`;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(`agent floor probe failed (${r.status}): ${r.stderr}`);
  return +(Number(r.stdout.trim()) / 1024).toFixed(1);
}
