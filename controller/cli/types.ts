/** One `kawin <name>` subcommand. The dispatcher (./main.ts) registers each module's `command`. */
export interface CliIO {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  isTTY: boolean;
}

export interface CliCommand {
  name: string;
  usage: string;
  /** Exit code: 0 success, 1 a negative outcome (invalid, diff, denied), 2 usage error. */
  run(argv: string[], io: CliIO): Promise<number>;
}

export class UsageError extends Error {}
