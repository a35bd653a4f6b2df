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
