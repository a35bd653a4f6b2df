import { LIMITS } from '../../driver/abi/types.js';

/**
 * Named limits of policy parsing (documented in docs/policy.md). Hitting one is a
 * problem with its own code (`limit.size`, `limit.aliases`, `limit.depth`), so the
 * store can count it; nothing is cut silently.
 */
export const POLICY_LIMITS = {
  /** One source text (a file, a gRPC payload, a CRD object): 32 MiB. */
  maxSourceBytes: 32 * 1024 * 1024,
  /** One YAML/JSON document: 1.5 MiB, the API server's default object size limit. */
  maxDocumentBytes: 1.5 * 1024 * 1024,
  /** Alias nodes (`*ref`) per document: enough for real reuse, too few for an alias bomb. */
  maxAliases: 16,
  /** Nesting depth of collections; a policy needs about 8. */
  maxDepth: 64,
} as const;
export type PolicyLimits = { -readonly [K in keyof typeof POLICY_LIMITS]: number };

/**
 * What the driver can hold (driver/abi/kawin_abi.h), checked when a policy is validated
 * so that a policy `kawin validate`, a file or gRPC accepted can always be encoded: a
 * policy past one of these is an error naming its field, never a failed APPLY.
 */
export const DRIVER_POLICY_LIMITS = {
  /**
   * UTF-16 code units of one rule path: KAWIN_MAX_PATH_BYTES / 2 (32,767) less 64 kept
   * for the NT device name the agent puts in place of the drive letter
   * (`C:` → `\Device\HarddiskVolume3`).
   */
  maxPathChars: LIMITS.maxPathBytes / 2 - 64,
  /** Rules one policy may make (paths × fromSource entries): KAWIN_MAX_RULES. */
  maxRules: LIMITS.maxRules,
  /** Encoded bytes of one policy's rules: one APPLY carries at most KAWIN_MAX_IOCTL_INPUT. */
  maxRuleBytes: LIMITS.maxIoctlInput,
} as const;

/** Why the driver could not hold `path` (a NUL, or too long), in words; undefined when it can. */
export function driverPathProblem(path: string): string | undefined {
  const nul = path.indexOf('\0');
  if (nul >= 0) return `the path contains a NUL character (U+0000) at character ${nul + 1}, which no file name can hold and the driver refuses`;
  if (path.length > DRIVER_POLICY_LIMITS.maxPathChars) {
    return `the path is ${path.length} characters long, over the driver's limit of ${DRIVER_POLICY_LIMITS.maxPathChars} (32,767 less room for the NT device name)`;
  }
  return undefined;
}
