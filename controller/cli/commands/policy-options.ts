/** Options shared by `kawin validate` and `kawin compile`. */
import { Flavor } from '../../../driver/abi/types.js';
import { MissingInputError } from '../../policy/inputs.js';
import { readPolicyPath } from '../../sources/file/read.js';
import { DEFAULT_MAX_FILE_BYTES } from '../../sources/file/types.js';
import { UsageError, type CliIO } from '../types.js';

/**
 * Reads a policy file as the agent's file source reads it: a FIFO, device or socket is
 * refused without being opened for a blocking read, and at most the agent's default size
 * limit is read.
 */
export function readPolicyFileForCli(location: string): Promise<Buffer> {
  return readPolicyPath(location, DEFAULT_MAX_FILE_BYTES).catch((error: Error) => {
    // The agent's wording says what stays in force on a node; here only the refusal matters.
    throw new Error(error.message.replace(/; its previous version stays in force$/, ''), { cause: error });
  });
}

export const policyCliOptions = {
  flavor: { type: 'string', default: 'windows' },
  env: { type: 'string', multiple: true },
  output: { type: 'string' },
  'node-labels': { type: 'string' },
} as const;

export interface CommonOptions {
  flavor: Flavor;
  environment: Record<string, string>;
  json: boolean;
}

export function readCommonOptions(values: { flavor?: string; env?: string[]; output?: string }, positionals: string[]): CommonOptions {
  if (positionals.length === 0) throw new UsageError('no files or directories given');
  const flavors: Record<string, Flavor> = { windows: Flavor.Windows, posix: Flavor.Posix };
  const flavor = flavors[values.flavor ?? 'windows'];
  if (flavor === undefined) throw new UsageError(`--flavor must be windows or posix, not "${values.flavor}"`);
  if (values.output !== undefined && values.output !== 'json') throw new UsageError(`--output must be json, not "${values.output}"`);
  const environment: Record<string, string> = {};
  for (const pair of values.env ?? []) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--env wants NAME=VALUE, not "${pair}"`);
    environment[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return { flavor, environment, json: values.output === 'json' };
}

/** Runs a command body; usage errors (bad options, missing files) exit 2 with the usage text. */
export async function runWithUsage(usage: string, io: CliIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (error instanceof UsageError || error instanceof MissingInputError || code.startsWith('ERR_PARSE_ARGS')) {
      io.stderr(`${(error as Error).message}\n\n${usage}`);
      return 2;
    }
    throw error;
  }
}
