/**
 * `kawin validate <files or dirs…>`: reads policies as kawin would on a node of the
 * given flavour and reports every problem like a compiler (`file:line:col: error:
 * field: message`). Exit 0 when valid (warnings allowed), 1 when not, 2 on bad usage.
 * Files are read as the agent's file source reads them: a FIFO, device or socket is
 * refused without being opened for a blocking read, and at most the agent's default
 * size limit is read.
 */
import { parseArgs } from 'node:util';
// The modules themselves, not the policy folder's index, which also holds the agent's
// compile cache and parse workers (node:v8, worker threads) that validate never uses.
import { PolicyCompiler } from '../../policy/compiler.js';
import { formatProblem } from '../../policy/format.js';
import { checkPolicies, readPolicyInputs } from '../../policy/inputs.js';
import type { CliCommand, CliIO } from '../types.js';
import { policyCliOptions, readCommonOptions, readPolicyFileForCli, runWithUsage } from './policy-options.js';

const usage = `usage: kawin validate <files or dirs…> [--flavor windows|posix] [--env NAME=VALUE]… [--output json]
  Validates KubeArmor policies (*.yaml, *.yml, *.json; directories recursively).
  --flavor   windows (default) or posix: which path rules apply
  --env      an environment variable for %NAME% paths (overrides the defaults)
  --output   json for machine-readable output
exit: 0 valid (warnings allowed), 1 invalid, 2 usage error`;

export const command: CliCommand = {
  name: 'validate',
 
  usage,
  run: (argv, io) => runWithUsage(usage, io, () => validate(argv, io)),
};

async function validate(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: policyCliOptions, allowPositionals: true, strict: true });
  const options = readCommonOptions(values, positionals);
  const compiler = new PolicyCompiler({ flavor: options.flavor, environment: options.environment });
  const checked = checkPolicies(await readPolicyInputs(positionals, readPolicyFileForCli), compiler);
  const errors = checked.problems.filter((p) => p.severity === 'error').length;
  const warnings = checked.problems.length - errors;
  const documents = checked.results.reduce((n, r) => n + r.documents.length, 0);
  if (options.json) {
    io.stdout(JSON.stringify({ valid: errors === 0, errors, warnings, documents, policies: checked.policies.map((p) => p.key), problems: checked.problems }, null, 2));
  } else {
    for (const problem of checked.problems) io.stdout(formatProblem(problem));
    const verdict = errors === 0 ? 'valid' : 'invalid';
    io.stdout(`${verdict}: ${checked.results.length} file(s), ${documents} document(s), ${checked.policies.length} valid policies, ${errors} error(s), ${warnings} warning(s)`);
  }
  return errors === 0 ? 0 : 1;
}
