/**
 * Starting and stopping the emulated kernel (kawin-driverd), the daemon that owns the
 * emulated driver's state. Like a real driver it outlives the agent: start it once (or
 * `--daemonize` it), and any number of agents come and go against DIR/Karmor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { EmulatedMachine } from './machine.js';
import { packageFile } from '../package-files/index.js';

const BUILD_DIR = fileURLToPath(packageFile('driver/emulator/build/'));
export const EMULATOR_DAEMON = join(BUILD_DIR, 'kawin-driverd');
export const EMULATOR_LIBRARY = join(BUILD_DIR, 'libkawin_emu.so');
const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 10_000;
const POLL_MS = 5;

export class EmulatorNotBuiltError extends Error {
  override readonly name = 'EmulatorNotBuiltError';
  constructor(missing: string) {
    super(`the driver emulator is not built (${missing} is missing): run \`npm install\` or \`node driver/emulator/build.mjs\`; it needs a C compiler (cc/gcc) and make-free POSIX threads`);
  }
}

export interface EmulatedKernelOptions {
  /** Directory for the sockets (DIR/Karmor, DIR/KarmorPort) and the pid file. */
  dir: string;
  flavor?: 'windows' | 'posix';
  ringCapacity?: number;
  /** Rule table capacity (default KAWIN_MAX_RULES); a smaller one makes the quota testable. */
  maxRules?: number;
  /** String SID reported as the user of every event (default S-1-5-18). */
  userSid?: string;
  /** Drive letter -> NT device, e.g. { 'C:': '\\Device\\HarddiskVolume3' }. */
  drives?: Record<string, string>;
  /** Fork into the background (survives this process); else a child of this process. */
  daemonize?: boolean;
  /** Log file of the daemon (default: stderr when not daemonized, none when daemonized). */
  log?: string;
  /** The kawin-driverd executable (default: the one built in driver/emulator/build). */
  daemon?: string;
}

export interface EmulatedKernel {
  dir: string;
  /** Device name to open: the device socket path. */
  device: string;
  /** Port name to connect: the port socket path. */
  port: string;
  /** The shim library to load the binding from. */
  library: string;
  pid: number;
  machine: EmulatedMachine;
}

export function emulatorPaths(dir: string): { device: string; port: string; pidFile: string; library: string } {
  return { device: join(dir, 'Karmor'), port: join(dir, 'KarmorPort'), pidFile: join(dir, 'kawin-driverd.pid'), library: EMULATOR_LIBRARY };
}

/** Throws EmulatorNotBuiltError unless the daemon and the shim library exist. */
export function assertEmulatorBuilt(): void {
  for (const f of [EMULATOR_DAEMON, EMULATOR_LIBRARY]) if (!existsSync(f)) throw new EmulatorNotBuiltError(f);
}

function daemonArgs(o: EmulatedKernelOptions): string[] {
  const args = ['--dir', o.dir, '--flavor', o.flavor ?? 'windows'];
  if (o.ringCapacity !== undefined) args.push('--ring', String(o.ringCapacity));
  if (o.maxRules !== undefined) args.push('--max-rules', String(o.maxRules));
  if (o.userSid !== undefined) args.push('--user-sid', o.userSid);
  for (const [letter, device] of Object.entries(o.drives ?? {})) args.push('--drive', `${letter.slice(0, 1)}:=${device}`);
  if (o.log) args.push('--log', o.log);
  if (o.daemonize) args.push('--daemonize');
  return args;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(POLL_MS);
  }
}

/** Starts kawin-driverd on `dir` and resolves once its sockets accept. */
export async function startEmulatedKernel(options: EmulatedKernelOptions): Promise<EmulatedKernel> {
  if (!options.daemon) assertEmulatorBuilt();
  const paths = emulatorPaths(options.dir);
  // A daemonizing parent exits once the child's sockets accept: its stderr says why not.
  // A plain child keeps running: inherit stderr, so no pipe keeps this process alive.
  const child = spawn(options.daemon ?? EMULATOR_DAEMON, daemonArgs(options), { stdio: ['ignore', 'inherit', options.daemonize ? 'pipe' : 'inherit'] });
  const exit = childExit(child);
  if (options.daemonize) {
    const { code, stderr } = await exit;
    if (code !== 0) throw new Error(`kawin-driverd failed to start (exit ${code}): ${stderr.trim()}`);
  } else {
    let early: string | undefined;
    void exit.then(({ code }) => { early = `exit ${code}, see its stderr`; });
    await waitFor(() => early !== undefined || existsSync(paths.pidFile), START_TIMEOUT_MS, `kawin-driverd on ${options.dir}`);
    if (early !== undefined && !existsSync(paths.pidFile)) throw new Error(`kawin-driverd failed to start (${early})`);
    child.unref();
  }
  const pid = readPid(paths.pidFile) ?? child.pid ?? 0;
  return { dir: options.dir, device: paths.device, port: paths.port, library: paths.library, pid, machine: new EmulatedMachine(paths.library, paths.device) };
}

function childExit(child: ChildProcess): Promise<{ code: number | null; stderr: string }> {
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => { stderr += d.toString(); });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stderr })));
}

function readPid(pidFile: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(pidFile, 'utf8'), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface EmulatorStatus {
  running: boolean;
  pid?: number;
  device: string;
  port: string;
}

export function emulatorStatus(dir: string): EmulatorStatus {
  const paths = emulatorPaths(dir);
  const pid = readPid(paths.pidFile);
  const running = pid !== undefined && alive(pid) && existsSync(paths.device);
  return { running, ...(pid !== undefined ? { pid } : {}), device: paths.device, port: paths.port };
}

/** Stops the daemon on `dir` (SIGTERM to the pid in its pid file) and waits for it to go. */
export async function stopEmulatedKernel(dir: string): Promise<void> {
  const { pid } = emulatorStatus(dir);
  if (pid === undefined || !alive(pid)) return;
  process.kill(pid, 'SIGTERM');
  await waitFor(() => !alive(pid), STOP_TIMEOUT_MS, `kawin-driverd (pid ${pid}) to stop`);
}
