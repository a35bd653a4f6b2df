/**
 * Policy files as the CLI reads them: files and directories (recursively, *.yaml,
 * *.yml, *.json) → texts → parsed, validated and translated for a flavour, with every
 * problem of every document, including the same policy defined twice.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Flavor } from '../../driver/abi/types.js';
import { parsePolicies, byPosition } from './parse.js';
import { decodePolicyText, PolicyEncodingError } from './encoding.js';
import type { PolicyCompiler, Translation } from './compiler.js';
import type { ParseResult, Policy, PolicyProblem } from './types.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface PolicyInput {
  location: string;
  text: string;
  /** Why the bytes are not text (then `text` is empty). */
  encodingError?: PolicyEncodingError;
  /** Why the file could not be read (then `text` is empty). */
  readError?: Error;
}

/** Reads one policy file's bytes; throws why it cannot. */
export type PolicyReader = (location: string) => Promise<Buffer>;

/** Thrown for a path that does not exist: a usage error, not an invalid policy. */
export class MissingInputError extends Error {}

export async function readPolicyInputs(paths: readonly string[], read: PolicyReader = (location) => readFile(location)): Promise<PolicyInput[]> {
  const files: string[] = [];
  for (const path of paths) files.push(...(await expand(path)));
  return Promise.all(files.map(async (location) => {
    const bytes = await read(location).catch((error: Error) => error);
    return bytes instanceof Error ? { location, text: '', readError: bytes } : decodeInput(location, bytes);
  }));
}

/** Decoded as the agent's file source decodes: UTF-8, or UTF-16 with a BOM; anything else is an error. */
function decodeInput(location: string, bytes: Buffer): PolicyInput {
  try {
    return { location, text: decodePolicyText(bytes, location) };
  } catch (error) {
    if (!(error instanceof PolicyEncodingError)) throw error;
    return { location, text: '', encodingError: error };
  }
}

async function expand(path: string): Promise<string[]> {
  const info = await stat(path).catch((cause: unknown) => {
    throw new MissingInputError(`${path}: no such file or directory`, { cause });
  });
  if (!info.isDirectory()) return [path];
  const names = (await readdir(path)).sort();
  const nested = await Promise.all(names.map(async (name) => {
    const child = join(path, name);
    if ((await stat(child)).isDirectory()) return expand(child);
    return EXTENSIONS.has(extname(name).toLowerCase()) ? [child] : [];
  }));
  return nested.flat();
}

export interface CheckedPolicies {
  results: ParseResult[];
  /** Valid policies (no parse or translation error), in input order. */
  policies: Policy[];
  /** Translation of each valid policy on the compiler's flavour, by key. */
  translations: Map<string, Translation>;
  /** Every problem, by location and position. */
  problems: PolicyProblem[];
}

export function checkPolicies(inputs: readonly PolicyInput[], compiler: PolicyCompiler): CheckedPolicies {
  const checked: CheckedPolicies = { results: [], policies: [], translations: new Map(), problems: [] };
  const firstSeen = new Map<string, string>();
  for (const input of inputs) {
    const result = input.readError ? readErrorResult(input.location, input.readError)
      : input.encodingError ? encodingResult(input.encodingError) : parsePolicies(input.text, input.location);
    checked.results.push(result);
    const problems = [...result.problems];
    for (const doc of result.documents) {
      problems.push(...doc.problems);
      const earlier = doc.key ? firstSeen.get(doc.key) : undefined;
      if (earlier) problems.push(duplicateIdentity(doc.key!, earlier, input.location, doc.line));
      else if (doc.key) firstSeen.set(doc.key, `${input.location}:${doc.line}`);
      if (!doc.policy || earlier) continue;
      const otherOs = otherOperatingSystem(doc.policy, compiler.flavor);
      if (otherOs) {
        problems.push(otherOs);
        continue;
      }
      const translation = compiler.translate(doc.policy);
      problems.push(...translation.problems);
      if (!translation.problems.some((p) => p.severity === 'error')) {
        checked.policies.push(doc.policy);
        checked.translations.set(doc.key!, translation);
      }
    }
    checked.problems.push(...problems.sort(byPosition));
  }
  return checked;
}

const OS_LABEL = 'kubernetes.io/os';

/**
 * A host policy for nodes of the other OS (`kubernetes.io/os: linux` checked for a
 * Windows node) is valid, but its paths are not this flavour's: not checked, said so.
 */
function otherOperatingSystem(policy: Policy, flavor: Flavor): PolicyProblem | undefined {
  const os = policy.selector.type === 'node' ? policy.selector.matchLabels[OS_LABEL] : undefined;
  if (os === undefined || (os === 'windows') === (flavor === Flavor.Windows)) return undefined;
  const other = flavor === Flavor.Windows ? 'posix' : 'windows';
  const at = policy.locate(`spec.nodeSelector.matchLabels["${OS_LABEL}"]`);
  return {
    severity: 'warning', code: 'skipped', location: policy.location, ...at, path: `spec.nodeSelector.matchLabels["${OS_LABEL}"]`,
    message: `the policy selects ${OS_LABEL}=${os} nodes, so its paths were not checked for this flavour (use --flavor ${other})`,
  };
}

function duplicateIdentity(key: string, earlier: string, location: string, line: number): PolicyProblem {
  return { severity: 'error', code: 'document', location, line, column: 1, path: 'metadata.name', message: `${key} is already defined at ${earlier}; a policy identity (kind, namespace, name) must be unique` };
}

function encodingResult(error: PolicyEncodingError): ParseResult {
  const problem: PolicyProblem = { severity: 'error', code: 'encoding', location: error.location, line: 0, column: 0, path: '', message: `${error.problem} at byte ${error.offset}; save the file as UTF-8 (or UTF-16 with a byte-order mark)` };
  return { location: error.location, documents: [], problems: [problem] };
}

function readErrorResult(location: string, error: Error): ParseResult {
  const problem: PolicyProblem = { severity: 'error', code: 'read', location, line: 0, column: 0, path: '', message: error.message };
  return { location, documents: [], problems: [problem] };
}
