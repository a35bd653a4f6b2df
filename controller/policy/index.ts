/**
 * Policies: KubeArmor policies (host, container, cluster) read exactly as KubeArmor
 * users write them, validated against kawin's CRD schemas with precise errors, and
 * compiled into the driver's rules for this node.
 *
 * - `parsePolicies(text, location, options?)` → `ParseResult`: every document of a
 *   YAML/JSON text with its identity, position, problems and, when valid, its
 *   normalized `Policy`. One bad document never invalidates the others.
 * - `new PolicyCompiler({ flavor, nodeLabels?, environment? }).compile(policy)` →
 *   `CompiledPolicy` (selection, rules with stable ids and origins, problems), cached
 *   per policy by content digest.
 * - `RuleSetBuilder`: merges compiled policies incrementally (`set`, `delete`,
 *   `rules()`, `lookup()` for alert enrichment).
 * - `NodeRuleSet`: compiler + builder + last-known-good + re-selection on new node
 *   labels, flavour or environment.
 */
export { parsePolicies, policyKey, byPosition, type ParseOptions } from './parse.js';
export { PolicyCompiler, translatePolicy, type CompiledPolicy, type CompiledRule, type CompilerOptions, type Translation } from './compiler.js';
export { RuleSetBuilder, type RuleSetChange } from './rule-set.js';
export { CompileCache, type CacheLoadOutcome } from './compile-cache.js';
export { PolicyPreparer, MIN_WORKER_BATCH, POOL_WARM_WAIT_MS, type PrepareCounts } from './preparer.js';
export { NodeRuleSet } from './node-rule-set.js';
export { selectPolicy, parseNodeLabels, HOSTNAME_LABEL, type NodeLabels, type Selection } from './selection.js';
export { DEFAULT_ENVIRONMENT, withDefaults, type Environment } from './environment.js';
export { canonicalPath, diagnosePath, foldCase } from './paths.js';
export { canonicalEncoding, ruleIdOf, formatRuleId } from './rule-id.js';
export { identityProblem, quoteName } from './names.js';
export { decodePolicyText, PolicyEncodingError } from './encoding.js';
export { POLICY_LIMITS, type PolicyLimits } from './limits.js';
export { PolicyValidationError, RuleIdCollisionError } from './errors.js';
export { formatProblem, formatRule, matchName } from './format.js';
export { CRD_DIRECTORY, CRD_FILES } from './schema.js';
export type { ActionName, PolicyKind, ProvenanceLookup, RuleOrigin, RuleProvenance } from './provenance.js';
export {
  API_GROUP, API_VERSION, POLICY_KINDS,
  type HostSelector, type ParseResult, type ParsedDocument, type Policy, type PolicyIdentity, type PolicyProblem,
  type PolicyRule, type Position, type ProblemCode, type SourceSpec, type WorkloadSelector,
} from './types.js';
