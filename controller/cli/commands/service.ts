/**
 * `kawin service …`: the Windows service without the MSI (install, uninstall, start, stop,
 * status), and the steps the MSI runs through it (configure: recovery actions; init-data:
 * %ProgramData%\kawin, its default config and ACL; remove-data on an uninstall that asks).
 */
import { parseArgs } from 'node:util';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { packageFile } from '../../../driver/package-files/index.js';
import { platformDefaults } from '../../config/index.js';
import { UsageError, type CliCommand, type CliIO } from '../types.js';
import { AGENT_NODE_OPTIONS } from '../../agent/node-flags.js';

const usage = `usage: kawin service <verb> [options]     (Windows, as Administrator)

  install [--config FILE]  create the kawin service (LocalSystem, automatic start, restart
                           on failure) running this node.exe and kawin
  uninstall                stop and delete the service (config, policies, state stay)
  start | stop             start or stop it and wait (up to --timeout seconds, default 60)
  status                   its state: RUNNING, STOPPED (with the exit code), …
  configure                set the description and recovery actions of an installed service
  init-data [--default-config FILE]
                           create %ProgramData%\\kawin\\{policies,state,logs} and config.json
                           from FILE when there is none; SYSTEM and Administrators only
  remove-data              delete %ProgramData%\\kawin (config, policies, state, logs);
                           refused while the service is installed and not STOPPED`;

const VERBS = ['install', 'uninstall', 'start', 'stop', 'status', 'configure', 'init-data', 'remove-data'] as const;
type Verb = (typeof VERBS)[number];

/** The service's command line; the config path is explicit, as the MSI's, so that the service never depends on its own environment. */
function commandLine(config: string | undefined): string {
  const bin = fileURLToPath(packageFile('bin/kawin.js'));
  return `"${process.execPath}" ${AGENT_NODE_OPTIONS.join(' ')} "${bin}" agent --config "${path.resolve(config ?? platformDefaults().configPath)}"`;
}

async function act(verb: Verb, values: { config?: string; timeout?: string; 'default-config'?: string }, io: CliIO): Promise<number> {
  const ws = await import('../../winservice/index.js');
  if (verb === 'init-data') {
    const { wroteConfig, icaclsArgs } = ws.initDataDir(values['default-config']);
    io.stdout(`${ws.dataDir()}: ${wroteConfig ? 'default config.json written' : 'config.json kept'}; SYSTEM and Administrators only: icacls ${icaclsArgs.join(' ')}`);
    return 0;
  }
  if (verb === 'remove-data') return removeData(ws, io);
  const manager = new ws.ServiceManager(ws.loadAdvapi());
  const timeoutMs = Number(values.timeout ?? 60) * 1000;
  if (!(timeoutMs > 0)) throw new UsageError('--timeout takes a number of seconds > 0');
  switch (verb) {
    case 'install': warn(io, manager.install(commandLine(values.config))); break;
    case 'uninstall': manager.uninstall(); break;
    case 'configure': warn(io, manager.configure()); break;
    case 'start': manager.start(); return report(io, await manager.waitFor('RUNNING', timeoutMs), 'RUNNING');
    case 'stop': manager.stop(); return report(io, await manager.waitFor('STOPPED', timeoutMs), 'STOPPED');
    case 'status': return report(io, manager.status());
  }
  io.stdout(`kawin service: ${verb} done`);
  return 0;
}

/** Refused under a running agent: it would lose its policies and state, and its open log file would stop the removal half-way. */
function removeData(ws: typeof import('../../winservice/index.js'), io: CliIO): number {
  const state = new ws.ServiceManager(ws.loadAdvapi()).statusIfInstalled()?.state;
  if (state !== undefined && state !== 'STOPPED') {
    throw new ws.DataDirError(`the kawin service is ${state}: stop it first ('kawin service stop'); nothing was removed`);
  }
  ws.removeDataDir();
  io.stdout(`${ws.dataDir()}: removed`);
  return 0;
}

function warn(io: CliIO, notes: string[]): void {
  for (const note of notes) io.stderr(`kawin service: warning: ${note}`);
}

function report(io: CliIO, s: { state: string; win32ExitCode: number; serviceExitCode: number }, wanted?: string): number {
  const exit = s.state === 'STOPPED' && s.win32ExitCode !== 0
    ? ` (exit: Win32 ${s.win32ExitCode}${s.win32ExitCode === 1066 ? `, kawin ${s.serviceExitCode}` : ''})` : '';
  io.stdout(`kawin service: ${s.state}${exit}`);
  return wanted === undefined || s.state === wanted ? 0 : 1;
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: true,
    options: { config: { type: 'string' }, timeout: { type: 'string' }, 'default-config': { type: 'string' } },
  });
  const verb = VERBS.find((v) => v === positionals[0]);
  if (!verb || positionals.length !== 1) throw new UsageError(`expected one of ${VERBS.join(', ')}`);
  if (process.platform !== 'win32') throw new Error(`Windows services exist only on Windows (this is ${process.platform})`);
  return act(verb, values, io);
}

export const command: CliCommand = { name: 'service', usage, run };
