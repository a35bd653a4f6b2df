/**
 * What the node can take before anything is sent: a rule whose path is on a volume this
 * node does not have, or longer than the driver's path limit, would make the whole atomic
 * APPLY fail (ERROR_INVALID_PARAMETER) and so stop every other policy. Such a rule is
 * refused on its own, with the reason, and checked again at the next resync (a volume
 * mounted later brings its rules in).
 */
import { LIMITS, type DriverRule, type PathMatch } from '../../driver/abi/types.js';
import { driverPathBytes } from '../../driver/abi/codec.js';
import type { PathTranslator } from '../../driver/client/types.js';

/** Who refused a rule: a node check before APPLY (volume, limit) or the driver itself. */
export type RefusalCheck = 'volume' | 'limit' | 'driver';
export const REFUSAL_CHECKS: readonly RefusalCheck[] = ['volume', 'limit', 'driver'];

export interface RuleRefusal {
  ruleId: bigint;
  check: RefusalCheck;
  /** In words, with the driver's error when the driver refused. */
  reason: string;
  /** The rule's target path, as the policy gave it. */
  path: string;
}

export type Admission = { rule: DriverRule; refusal?: undefined } | { rule?: undefined; refusal: RuleRefusal };

/**
 * The rule itself when this node can take it (its paths stay in the policy's form: the
 * driver client writes them as NT paths), or why not.
 */
export function admit(rule: DriverRule, paths: PathTranslator): Admission {
  const problem = check(rule.target, paths) ?? (rule.source ? check(rule.source, paths) : undefined);
  return problem ? { refusal: { ruleId: rule.id, ...problem, path: rule.target.path } } : { rule };
}

/** A refusal by the driver itself (found by bisection), with its error. */
export function driverRefusal(ruleId: bigint, policyPath: string, error: Error): RuleRefusal {
  return { ruleId, check: 'driver', reason: `the driver rejected the rule: ${error.message}`, path: policyPath };
}

type Problem = Pick<RuleRefusal, 'check' | 'reason'>;

function check(clause: PathMatch, paths: PathTranslator): Problem | undefined {
  const drive = paths.missingVolume(clause.path);
  if (drive !== undefined) {
    return { check: 'volume', reason: `volume ${drive} is not present on this node (the rule is applied when it appears)` };
  }
  const bytes = driverPathBytes(clause.path, paths.toDriverParts(clause.path));
  if (bytes > LIMITS.maxPathBytes) {
    return { check: 'limit', reason: `the driver path is ${bytes} UTF-16 bytes, above the driver's limit of ${LIMITS.maxPathBytes} (KAWIN_MAX_PATH_BYTES)` };
  }
  return undefined;
}
