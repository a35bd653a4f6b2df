/**
 * Stable rule ids: the first 8 bytes of SHA-256 over a canonical encoding of what the
 * driver enforces (kind, match, action, flags, case-folded target and source). Policy
 * names, severity, order and machine play no part, so the same rule has the same id
 * everywhere and identical rules from several policies merge.
 */
import { hash } from 'node:crypto';
import type { Flavor, PathMatch, RuleAction, RuleKind } from '../../driver/abi/types.js';
import { foldCase } from './paths.js';

const VERSION = 'kawin-rule-v1';

export interface RuleContent {
  kind: RuleKind;
  action: RuleAction;
  flags: number;
  target: PathMatch;
  source?: PathMatch;
}

/** The canonical encoding, without the action: rules equal here differ only in action. */
export function ruleShape(rule: Omit<RuleContent, 'action'>, flavor: Flavor): string {
  const source = rule.source ? `${rule.source.match}|${foldCase(rule.source.path, flavor)}` : '0|';
  return `${rule.kind}|${rule.target.match}|${rule.flags}|${foldCase(rule.target.path, flavor)}|${source}`;
}

export function canonicalEncoding(rule: RuleContent, flavor: Flavor): string {
  return canonicalOf(rule.action, ruleShape(rule, flavor));
}

export const canonicalOf = (action: RuleAction, shape: string): string => `${VERSION}|${action}|${shape}`;

/** A nonzero 64-bit id from a canonical encoding. */
export function ruleIdOf(canonical: string): bigint {
  // Hex output and BigInt('0x…') are about twice as fast as a Buffer and readBigUInt64BE
  // (a cold converge hashes 100k rules): the same bytes, big-endian.
  const digest = hash('sha256', canonical, 'hex');
  const id = BigInt(`0x${digest.slice(0, 16)}`);
  // Zero means "no rule" in the ABI: fall back to the next 8 bytes (never seen in practice).
  return id !== 0n ? id : BigInt(`0x${digest.slice(16, 32)}`) || 1n;
}

export const formatRuleId = (id: bigint): string => `0x${id.toString(16).padStart(16, '0')}`;
