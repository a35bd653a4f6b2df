/**
 * `kawin driver run|status|stop`: the emulated kernel's lifecycle. Like a loaded driver
 * it keeps running (and enforcing) when the agent exits; on Windows the minifilter is
 * managed with fltmc and the service instead.
 */
import { parseArgs } from 'node:util';
import { DriverClient, EmulatedMachine, emulatorStatus, loadBinding, startEmulatedKernel, stopEmulatedKernel } from '../../../driver/index.js';
import { EMULATOR_LIBRARY } from '../../../driver/emulator/kernel.js';
import { CONFIG_OPTION, cliConfig } from '../config.js';
import { UsageError, type CliCommand, type CliIO } from '../types.js';

const usage = `usage: kawin driver <verb> [--config FILE] [--output json]

  run        load the emulated driver (daemon in the background) if it is not loaded
  status     whether it is loaded, its generation, rule count and event counters
  stop       unload it (its rule table is gone; the agent loads it again when it starts)
  reload     unload and load again: table cleared, generation 0, port dropped
  reset      like reload, and clear injected faults
  drop-port  drop the event port connection (the agent reconnects)
  fault --ioctl NAME|any --count N [--error WIN32]
             the next N calls of that IOCTL (ADD_RULES, REMOVE_RULES, LIST_RULES,
             GET_STATE, SET_CONFIG, APPLY) fail with that Win32 error (default 31)`;

const IOCTLS = ['ADD_RULES', 'REMOVE_RULES', 'LIST_RULES', 'GET_STATE', 'SET_CONFIG', 'APPLY'] as const;

/** `--ioctl` as an IOCTL name, or undefined for "any". */
function ioctlOf(value: string | undefined): (typeof IOCTLS)[number] | undefined {
  const name = value?.toUpperCase();
  if (name === 'ANY') return undefined;
  const ioctl = IOCTLS.find((n) => n === name);
  if (!ioctl) throw new UsageError(`--ioctl takes one of ${IOCTLS.join(', ')} or any`);
  return ioctl;
}

function injectFault(machine: EmulatedMachine, values: { ioctl?: string; count?: string; error?: string }): string {
  const ioctl = ioctlOf(values.ioctl);
  const count = Number(values.count);
  const error = Number(values.error ?? 0);
  if (!Number.isSafeInteger(count) || count < 1) throw new UsageError('--count takes a whole number ≥ 1');
  if (!Number.isSafeInteger(error) || error < 0) throw new UsageError('--error takes a Win32 error number');
  machine.injectFault(ioctl, count, error);
  return `the next ${count} ${ioctl ?? 'IOCTL'} call(s) fail with Win32 error ${error || 31}`;
}

/** The machine-level operations: what an administrator or a test does to the driver. */
function machineVerb(verb: string, machine: EmulatedMachine, values: { ioctl?: string; count?: string; error?: string }): string | undefined {
  switch (verb) {
    case 'reload': machine.reload(); return 'driver: reloaded (table cleared)';
    case 'reset': machine.reset(); return 'driver: reset (table cleared, faults cleared)';
    case 'drop-port': machine.dropPort(); return 'driver: port connection dropped';
    case 'fault': return injectFault(machine, values);
    default: return undefined;
  }
}

async function status(dir: string, library: string, io: CliIO, json: boolean): Promise<number> {
  const s = emulatorStatus(dir);
  if (!s.running) {
    io.stdout(json ? JSON.stringify({ loaded: false, dir }) : `driver: not loaded (${dir})`);
    return 1;
  }
  const client = await DriverClient.open({ binding: loadBinding({ library }), device: s.device, port: s.port });
  try {
    const st = await client.getState();
    const view = {
      loaded: true, pid: s.pid, dir, flavor: st.flavor === 1 ? 'windows' : 'posix', generation: String(st.generation),
      rules: st.ruleCount, portConnected: st.portConnected, eventsEmitted: String(st.eventsEmitted),
      eventsDropped: String(st.eventsDropped), ring: `${st.ringUsed}/${st.ringCapacity}`,
    };
    io.stdout(json ? JSON.stringify(view) : Object.entries(view).map(([k, v]) => `${k.padEnd(14)} ${v}`).join('\n'));
    return 0;
  } finally {
    await client.close();
  }
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { ...CONFIG_OPTION, output: { type: 'string' }, ioctl: { type: 'string' }, count: { type: 'string' }, error: { type: 'string' } },
  });
  const [verb] = positionals;
  const config = await cliConfig(values.config);
  const emu = config.driver.emulator;
  if (config.driver.kind !== 'emulator') throw new UsageError('the configured driver is the Windows minifilter: use fltmc');
  const library = emu.library ?? EMULATOR_LIBRARY;
  if (verb === 'run') {
    if (!emulatorStatus(emu.dir).running) {
      await startEmulatedKernel({ dir: emu.dir, flavor: emu.flavor, drives: emu.drives, ringCapacity: emu.ringCapacity, daemonize: true });
    }
    return status(emu.dir, library, io, values.output === 'json');
  }
  if (verb === 'status') return status(emu.dir, library, io, values.output === 'json');
  if (verb === 'stop') {
    await stopEmulatedKernel(emu.dir);
    io.stdout('driver: unloaded');
    return 0;
  }
  const s = emulatorStatus(emu.dir);
  if (!verb || !['reload', 'reset', 'drop-port', 'fault'].includes(verb)) throw new UsageError(`unknown driver command '${verb ?? ''}'`);
  if (!s.running) throw new Error(`the emulated driver is not running on ${emu.dir}`);
  io.stdout(machineVerb(verb, new EmulatedMachine(library, s.device), values)!);
  return 0;
}

export const command: CliCommand = { name: 'driver', usage, run };
