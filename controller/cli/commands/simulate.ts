/**
 * `kawin simulate`: operations "from the machine" against the emulated driver, as an
 * application would cause them. The driver decides from its own table and emits the
 * event to the agent, exactly as on Windows.
 */
import { parseArgs } from 'node:util';
import { Decision } from '../../../driver/abi/types.js';
import { EmulatedMachine, emulatorStatus, type EmulatedProcess } from '../../../driver/index.js';
import { EMULATOR_LIBRARY } from '../../../driver/emulator/kernel.js';
import { formatRuleId } from '../../policy/index.js';
import { CONFIG_OPTION, cliConfig } from '../config.js';
import { UsageError, type CliCommand, type CliIO } from '../types.js';

const usage = `usage:
  kawin simulate file-open <path> [--process IMAGE] [--pid N] [--write] [--parent IMAGE --ppid N] [PROCESS FACTS]
  kawin simulate process-create <image> [--parent IMAGE] [--parent-pid N] [--command-line TEXT] [PROCESS FACTS]
  kawin simulate load --count M [--rate N]

Performs the operation against the emulated driver (see 'kawin driver status') and
prints its decision. Exit code 0 allowed (Allow/Audit), 1 denied (Block), 2 usage.
The acting process (the opener, or the creator of the new process) is what the
driver tracks for its pid; PROCESS FACTS tell the driver about it first, as a
minifilter knows them from its process tracking:
  --session N     its session      --user SID     its user (default: the emulator's)
  --cwd DIR       its current directory
  (file-open: --parent IMAGE and --ppid N name the opener's parent)

'load' emits M events at N per second (default: as fast as it can), each naming one of
the table's Audit or Block rules in turn (unmatched opens when it has none).
  --config FILE   the agent config naming the emulator (default: $KAWIN_CONFIG)`;

const DEFAULT_PROCESS = 'C:\\Windows\\explorer.exe';

async function machine(configFlag: string | undefined): Promise<EmulatedMachine> {
  const config = await cliConfig(configFlag);
  const { dir, library } = config.driver.emulator;
  const status = emulatorStatus(dir);
  if (!status.running) throw new Error(`the emulated driver is not running on ${dir} (start the agent, or 'kawin driver run')`);
  return new EmulatedMachine(library ?? EMULATOR_LIBRARY, status.device);
}

function report(io: CliIO, what: string, d: { decision: Decision; status: number; ruleId: bigint; processId: number }): number {
  const name = Decision[d.decision] ?? `decision ${d.decision}`;
  const pid = d.processId ? `, pid ${d.processId}` : '';
  io.stdout(`${name}: ${what} (rule ${d.ruleId === 0n ? 'none' : formatRuleId(d.ruleId)}, status 0x${d.status.toString(16).padStart(8, '0')}${pid})`);
  return d.decision === Decision.Block || d.decision === Decision.PostureBlock ? 1 : 0;
}

const OPTIONS = {
  ...CONFIG_OPTION,
  process: { type: 'string' }, pid: { type: 'string' }, write: { type: 'boolean' },
  parent: { type: 'string' }, 'parent-pid': { type: 'string' }, 'command-line': { type: 'string' },
  count: { type: 'string' }, rate: { type: 'string' },
  ppid: { type: 'string' }, session: { type: 'string' }, user: { type: 'string' }, cwd: { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>['values'];

function num(v: string | undefined, name: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number, got '${v}'`);
  return n;
}

async function load(values: Values, io: CliIO): Promise<number> {
  const count = num(values.count, 'count');
  if (count === undefined) throw new UsageError('simulate load needs --count');
  await (await machine(values.config)).generateLoad(count, num(values.rate, 'rate') ?? 0, true);
  io.stdout(`emitted ${count} events`);
  return 0;
}

const DEFAULT_PID = 4242;

/** Tells the driver's process tracking about the acting process, when any fact of it was given. */
function defineActor(m: EmulatedMachine, actor: EmulatedProcess, values: Values): void {
  const given = values.ppid ?? values.session ?? values.user ?? values.cwd;
  if (given === undefined) return;
  m.defineProcess({
    ...actor, sessionId: num(values.session, 'session'), userSid: values.user, currentDirectory: values.cwd,
  });
}

function fileOpen(m: EmulatedMachine, target: string, values: Values, io: CliIO): number {
  const process = values.process ?? DEFAULT_PROCESS;
  const pid = num(values.pid, 'pid') ?? DEFAULT_PID;
  const ppid = num(values.ppid, 'ppid');
  if (values.parent !== undefined && ppid === undefined) throw new UsageError('--parent of a file-open needs --ppid (the parent\'s pid)');
  if (values.parent !== undefined && ppid !== undefined) m.defineProcess({ pid: ppid, image: values.parent });
  defineActor(m, { pid, parentPid: ppid, image: process }, values);
  const d = m.simulateFileOpen(target, { process, pid, write: values.write ?? false });
  return report(io, `${values.write ? 'write' : 'read'} open of ${target} by ${process}`, d);
}

function processCreate(m: EmulatedMachine, target: string, values: Values, io: CliIO): number {
  const parent = values.parent ?? DEFAULT_PROCESS;
  const parentPid = num(values['parent-pid'], 'parent-pid') ?? DEFAULT_PID;
  if (values.ppid !== undefined) throw new UsageError('process-create takes --parent-pid (the creator), not --ppid');
  defineActor(m, { pid: parentPid, image: parent }, values);
  const d = m.simulateProcessCreate(target, { parent, parentPid, commandLine: values['command-line'] });
  return report(io, `start of ${target} by ${parent}`, d);
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const [verb, ...rest] = argv;
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, strict: true, options: OPTIONS });
  if (verb === 'load') return load(values, io);
  if (verb !== 'file-open' && verb !== 'process-create') throw new UsageError(`unknown operation '${verb ?? ''}'`);
  const [target] = positionals;
  if (!target || positionals.length > 1) throw new UsageError(`simulate ${verb} takes one path`);
  const m = await machine(values.config);
  return verb === 'file-open' ? fileOpen(m, target, values, io) : processCreate(m, target, values, io);
}

export const command: CliCommand = { name: 'simulate', usage, run };
