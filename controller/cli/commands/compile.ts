/**
 * `kawin compile <files…>`: the driver rules the policies become on a node — with
 * `--node-labels`, only the host policies that select a node with those labels;
 * without, every valid host policy. Prints each rule with its stable id (hex).
 */
import { parseArgs } from 'node:util';
import { RULE_FLAG_READ_ONLY, RuleAction, RuleKind, type DriverRule, type PathMatch } from '../../../driver/abi/types.js';
import {
  PolicyCompiler, RuleSetBuilder, formatProblem, formatRule, formatRuleId, matchName, parseNodeLabels, type ProvenanceLookup,
} from '../../policy/index.js';
import { checkPolicies, readPolicyInputs } from '../../policy/inputs.js';
import { UsageError, type CliCommand, type CliIO } from '../types.js';
import { policyCliOptions, readCommonOptions, readPolicyFileForCli, runWithUsage } from './policy-options.js';

const usage = `usage: kawin compile <files or dirs…> [--node-labels k=v,…] [--flavor windows|posix] [--env NAME=VALUE]… [--output json]
  Prints the driver rules of valid host policies, with their ids.
  --node-labels  the node's labels: only policies selecting it are compiled (default: all host policies)
  --flavor       windows (default) or posix
  --env          an environment variable for %NAME% paths (overrides the defaults)
  --output       json for machine-readable output
exit: 0 compiled, 1 a policy is invalid, 2 usage error`;

export const command: CliCommand = {
  name: 'compile',
 
  usage,
  run: (argv, io) => runWithUsage(usage, io, () => compile(argv, io)),
};

async function compile(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, options: policyCliOptions, allowPositionals: true, strict: true });
  const options = readCommonOptions(values, positionals);
  const nodeLabels = values['node-labels'] === undefined ? undefined : labelsOption(values['node-labels']);
  const compiler = new PolicyCompiler({ flavor: options.flavor, environment: options.environment, nodeLabels: nodeLabels ?? {} });
  const checked = checkPolicies(await readPolicyInputs(positionals, readPolicyFileForCli), compiler);
  const errors = checked.problems.filter((p) => p.severity === 'error');
  for (const problem of checked.problems) io.stderr(formatProblem(problem));
  if (errors.length > 0) return 1;
  const builder = new RuleSetBuilder();
  const policies = checked.policies.map((policy) => {
    const compiled = compiler.compile(policy);
    // Without --node-labels, selection is skipped: every host policy counts.
    const enforced = nodeLabels ? compiled.selection.enforced : policy.selector.type === 'node';
    const reason = nodeLabels ? compiled.selection.reason : enforced ? 'no --node-labels: every host policy is compiled' : compiled.selection.reason;
    const rules = enforced ? checked.translations.get(policy.key)!.rules : [];
    builder.set(policy.key, { rules });
    return { key: policy.key, enforced, reason, rules: rules.length };
  });
  const rules = [...builder.rules().values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (options.json) io.stdout(JSON.stringify({ policies, rules: rules.map((r) => ruleJson(r, builder)) }, null, 2));
  else printHuman(io, policies, rules, builder);
  return 0;
}

function labelsOption(text: string): Record<string, string> {
  try {
    return parseNodeLabels(text);
  } catch (error) {
    throw new UsageError(`--node-labels: ${(error as Error).message}`);
  }
}

function printHuman(io: CliIO, policies: { key: string; enforced: boolean; reason: string; rules: number }[], rules: DriverRule[], provenance: ProvenanceLookup): void {
  for (const p of policies) io.stdout(`# ${p.key}: ${p.enforced ? `${p.rules} rule(s)` : 'not compiled'} (${p.reason})`);
  for (const rule of rules) {
    const origins = provenance.lookup(rule.id)?.origins.map((o) => (o.severity === 0 ? o.policy : `${o.policy} severity ${o.severity}`)).join(', ') ?? '';
    io.stdout(`${formatRule(rule)}  <- ${origins}`);
  }
  io.stdout(`${rules.length} rule(s) from ${policies.filter((p) => p.enforced).length} policies`);
}

function ruleJson(rule: DriverRule, provenance: ProvenanceLookup): object {
  const match = (m: PathMatch) => ({ path: m.path, match: matchName(m) });
  return {
    id: formatRuleId(rule.id), kind: RuleKind[rule.kind], action: RuleAction[rule.action], readOnly: (rule.flags & RULE_FLAG_READ_ONLY) !== 0,
    target: match(rule.target), ...(rule.source ? { source: match(rule.source) } : {}),
    origins: provenance.lookup(rule.id)?.origins ?? [],
  };
}
