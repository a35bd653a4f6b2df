/**
 * The `kawin` command dispatcher: one subcommand module per verb, each exporting a
 * `CliCommand`. Exit codes: 0 success, 1 negative outcome, 2 usage error.
 */
import type { CliCommand, CliIO } from './types.js';
import { UsageError } from './types.js';

type Loader = () => Promise<{ command: CliCommand }>;

const commands: Record<string, Loader> = {
  agent: () => import('./commands/agent.js'),
  validate: () => import('./commands/validate.js'),
  compile: () => import('./commands/compile.js'),
  simulate: () => import('./commands/simulate.js'),
  driver: () => import('./commands/driver.js'),
  status: () => import('./commands/status.js'),
  policy: () => import('./commands/policy.js'),
  logs: () => import('./commands/logs.js'),
};

const defaultIO: CliIO = {
  stdout: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  stderr: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  isTTY: Boolean(process.stdout.isTTY),
};

async function help(io: CliIO): Promise<void> {
  const lines = ['usage: kawin <command> [options]', '', 'commands:'];
  for (const [name, load] of Object.entries(commands)) {
    const { command } = await load();
    lines.push(`  ${name.padEnd(10)} ${command.summary}`);
  }
  lines.push('', "run 'kawin <command> --help' for a command's options");
  io.stdout(lines.join('\n'));
}

export async function main(argv: string[], io: CliIO = defaultIO): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    await help(io);
    return name ? 0 : 2;
  }
  const load = commands[name];
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
