/** Typed errors of the policy concept: callers tell them apart and read their details. */
import type { PolicyProblem } from './types.js';
import { formatProblem } from './format.js';

/** A policy text or document was rejected; `problems` holds every error and warning found. */
export class PolicyValidationError extends Error {
  constructor(readonly problems: readonly PolicyProblem[], options?: { cause?: unknown }) {
    const errors = problems.filter((p) => p.severity === 'error');
    super(`${errors.length} error(s) in policy: ${errors.slice(0, 3).map(formatProblem).join('; ')}${errors.length > 3 ? '; …' : ''}`, options);
    this.name = 'PolicyValidationError';
  }
}

/** Two different rules hashed to one 64-bit id: astronomically unlikely, never merged silently. */
export class RuleIdCollisionError extends Error {
  constructor(readonly ruleId: bigint, readonly existing: string, readonly incoming: string) {
    super(`rule id 0x${ruleId.toString(16)} is shared by two different rules: ${existing} and ${incoming}`);
    this.name = 'RuleIdCollisionError';
  }
}
