/**
 * `kawin driver run|status|stop`: the emulated kernel's lifecycle. Like a loaded driver
 * it keeps running (and enforcing) when the agent exits; on Windows the minifilter is
 * managed with fltmc and the service instead.
 */
import { parseArgs } from 'node:util';
import { DriverClient, emulatorStatus, loadBinding, startEmulatedKernel, stopEmulatedKernel } from '../../../driver/index.js';
import { EMULATOR_LIBRARY } from '../../../driver/emulator/kernel.js';
import { CONFIG_OPTION, cliConfig } from '../config.js';
import { UsageError, type CliCommand, type CliIO } from '../types.js';

const usage = `usage: kawin driver run|status|stop [--config FILE] [--output json]

  run      load the emulated driver (daemon in the background) if it is not loaded
  status   whether it is loaded, its generation, rule count and event counters
  stop     unload it (its rule table is gone; the agent loads it again when it starts)`;

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
    args: argv, allowPositionals: true, strict: true, options: { ...CONFIG_OPTION, output: { type: 'string' } },
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
  throw new UsageError(`unknown driver command '${verb ?? ''}'`);
}

export const command: CliCommand = { name: 'driver', summary: 'load, inspect or unload the emulated driver', usage, run };
