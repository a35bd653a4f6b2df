/**
 * The `kawin` command dispatcher: one subcommand module per verb, each exporting a
 * `CliCommand`. Exit codes: 0 success, 1 negative outcome, 2 usage error.
 */
import type { CliCommand, CliIO } from './types.js';
import { UsageError } from './types.js';

type Loader = () => Promise<{ command: CliCommand }>;

/** Each verb's one-line summary lives here so that `kawin --help` loads no command module. */
const commands: Record<string, { summary: string; load: Loader }> = {
  agent: { summary: 'run the agent (reconcile loop, event stream, metrics)', load: () => import('./commands/agent.js') },
  validate: { summary: 'check KubeArmor policy files and report errors with file, line and field', load: () => import('./commands/validate.js') },
  compile: { summary: 'show the driver rules (with stable ids) that policies compile to', load: () => import('./commands/compile.js') },
  simulate: { summary: 'perform a file open / process start on the emulated driver', load: () => import('./commands/simulate.js') },
  driver: { summary: 'load, inspect or unload the emulated driver', load: () => import('./commands/driver.js') },
  status: { summary: "the agent's status and each policy's state", load: () => import('./commands/status.js') },
  policy: { summary: 'apply, delete, list or diff policies on the running agent (gRPC)', load: () => import('./commands/policy.js') },
  logs: { summary: "watch the agent's live alerts and logs (like karmor logs)", load: () => import('./commands/logs.js') },
  service: { summary: 'install, start, stop or remove the kawin Windows service', load: () => import('./commands/service.js') },
};

const defaultIO: CliIO = {
  stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTTY: Boolean(process.stdout.isTTY),
};

function help(io: CliIO): void {
  const lines = ['usage: kawin <command> [options]', '', 'commands:'];
  for (const [name, { summary }] of Object.entries(commands)) lines.push(`  ${name.padEnd(10)} ${summary}`);
  lines.push('', "run 'kawin <command> --help' for a command's options");
  io.stdout(lines.join('\n'));
}

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    help(io);
    return name ? 0 : 2;
  }
  const load = commands[name]?.load;
  if (!load) {
    io.stderr(`kawin: unknown command '${name}' (see 'kawin --help')`);
    return 2;
  }
  const { command } = await load();
  if (rest.includes('--help') || rest.includes('-h')) {
    io.stdout(command.usage);
    return 0;
  }
  try {
    return await command.run(rest, io);
  } catch (error) {
    return reportFailure(command, error as Error, io);
  }
}

/** Usage errors (exit 2) repeat the usage; anything else is a failure (exit 1). */
function reportFailure(command: CliCommand, error: Error, io: CliIO): number {
  const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
  io.stderr(`kawin ${command.name}: ${error.message}${usage ? `\n\n${command.usage}` : ''}`);
  return usage ? 2 : 1;
}
