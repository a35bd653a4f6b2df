/**
 * The agent as its own process, as `kawin agent` runs it (for tests of what only a whole
 * process shows: exit codes, signals, the driver's port released on exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { AgentHarness } from './agent-harness.js';

export const BIN = fileURLToPath(new URL('../bin/kawin.js', import.meta.url));
export const FAULT_INJECT = fileURLToPath(new URL('./fixtures/fault-inject.mjs', import.meta.url));

export interface AgentProcess {
  child: ChildProcess;
  /** Everything it wrote so far (stdout and stderr). */
  output(): string;
  /** Exit code (or -1 when killed by a signal). */
  exited: Promise<number>;
}

export interface SpawnAgentOptions {
  extra?: Record<string, unknown>;
  /** Extra node flags (e.g. `--import` a fault injector). */
  nodeArgs?: string[];
  env?: Record<string, string>;
  /** A command the agent runs under (e.g. `['prlimit', '--nofile=400']`). */
  wrapper?: string[];
  /** Resolve once this appears in the output (default: the first apply is done). */
  readyText?: string;
  /** Give up (kill the process, reject) when neither ready nor exited by then (default 30 s). */
  timeoutMs?: number;
}

export function spawnAgent(h: AgentHarness, options: SpawnAgentOptions = {}): Promise<AgentProcess> {
  writeFileSync(h.configFile, JSON.stringify(h.rawConfig(options.extra), null, 2));
  const [command, ...args] = [...(options.wrapper ?? []), process.execPath, ...(options.nodeArgs ?? []), BIN, 'agent', '--config', h.configFile];
  const child = spawn(command!, args, {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...options.env },
  });
  let out = '';
  const exited = new Promise<number>((resolve) => child.once('exit', (code, signal) => resolve(code ?? (signal ? -1 : 0))));
  const agent: AgentProcess = { child, output: () => out, exited };
  const readyText = options.readyText ?? 'initial sync done';
  return new Promise<AgentProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`agent neither ready nor exited within ${options.timeoutMs ?? 30_000} ms:\n${out}`));
    }, options.timeoutMs ?? 30_000);
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (!out.includes(readyText)) return;
      clearTimeout(timer);
      resolve(agent);
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`agent exited (${code}) before '${readyText}':\n${out}`));
    });
  });
}

/** The exit code, or a failure naming what the process printed when it does not exit in time. */
export async function exitWithin(agent: AgentProcess, ms: number): Promise<number> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      agent.child.kill('SIGKILL');
      reject(new Error(`the agent did not exit within ${ms} ms:\n${agent.output()}`));
    }, ms);
  });
  try {
    return await Promise.race([agent.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
