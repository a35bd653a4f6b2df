/**
 * PolicyCompiler: a validated policy → the driver rules it contributes on this node,
 * with the origin of each rule. Paths are reduced to the flavour's canonical form
 * (DOS paths on Windows; the agent translates them to NT device paths). The costly
 * part is cached per policy by content digest, so recompiling an unchanged policy, or
 * re-selecting after a node label change, costs almost nothing.
 */
import { Flavor, MatchType, RULE_FLAG_READ_ONLY, RuleAction, RuleKind, type DriverRule, type PathMatch } from '../../driver/abi/types.js';
import { RULE } from '../../driver/abi/layout.js';
import { canonicalPath, type PathContext } from './paths.js';
import { DRIVER_POLICY_LIMITS, driverPathProblem } from './limits.js';
import { environmentLookup, withDefaults, type Environment } from './environment.js';
import { canonicalOf, ruleIdOf, ruleShape, shapeOf } from './rule-id.js';
import { selectPolicy, type NodeLabels, type Selection } from './selection.js';
import type { RuleOrigin } from './provenance.js';
import type { Policy, PolicyIdentity, PolicyProblem, PolicyRule, ProblemCode, SourceSpec } from './types.js';

/** A driver rule with where it came from. */
export interface CompiledRule extends DriverRule {
  origin: RuleOrigin;
}

export interface CompiledPolicy {
  key: string;
  identity: PolicyIdentity;
  digest: string;
  selection: Selection;
  /** The rules this policy puts in the driver: empty unless enforced and valid. */
  rules: readonly CompiledRule[];
  /** Compile-time problems: paths this node cannot enforce, unknown variables (errors); duplicates, conflicts (warnings). */
  problems: readonly PolicyProblem[];
  /** False when a problem is an error: the policy must not replace its last good version. */
  valid: boolean;
}

export interface CompilerOptions {
  flavor: Flavor;
  nodeLabels?: NodeLabels;
  /** Overrides of DEFAULT_ENVIRONMENT (the agent passes the node's values). */
  environment?: Environment;
}

/** Rules and problems of a policy for a flavour and environment, before selection. */
export interface Translation {
  rules: readonly CompiledRule[];
  problems: readonly PolicyProblem[];
}

const KINDS = { process: RuleKind.Process, file: RuleKind.File } as const;

/** What a translation depends on besides the policy: a prepared translation is reused only for the same one. */
export interface TranslationContext {
  flavor: Flavor;
  environment: Environment;
}

export class PolicyCompiler {
  private context: PathContext;
  private translationContext: TranslationContext;
  private labels: NodeLabels;
  private contextKeyCache: string | undefined;
  private readonly cache = new Map<string, { digest: string; translation: Translation }>();

  constructor(options: CompilerOptions) {
    this.translationContext = { flavor: options.flavor, environment: withDefaults(options.environment) };
    this.context = { flavor: options.flavor, environment: environmentLookup(this.translationContext.environment) };
    this.labels = options.nodeLabels ?? {};
  }

  /** The flavour and environment translations are made for (handed to worker threads). */
  get translation(): TranslationContext {
    return this.translationContext;
  }

  /** A string that changes whenever the translation context does (part of the compile cache key). */
  get contextKey(): string {
    // Asked once per prepared text: kept until the context changes.
    return (this.contextKeyCache ??= contextKeyOf(this.translationContext));
  }

  /** A translation made elsewhere (a worker, the compile cache) for this compiler's current context. */
  seed(key: string, digest: string, translation: Translation): void {
    this.cache.set(key, { digest, translation });
  }

  get flavor(): Flavor {
    return this.context.flavor;
  }

  get nodeLabels(): NodeLabels {
    return this.labels;
  }

  compile(policy: Policy): CompiledPolicy {
    const selection = selectPolicy(policy, this.labels);
    const base = { key: policy.key, identity: policy.identity, digest: policy.digest, selection };
    if (!selection.enforced) return { ...base, rules: [], problems: [], valid: true };
    const { rules, problems } = this.translate(policy);
    const valid = !problems.some((p) => p.severity === 'error');
    return { ...base, rules: valid ? rules : [], problems, valid };
  }

  /** The policy's rules on this node's flavour, whatever its selection (used by `kawin validate`). */
  translate(policy: Policy): Translation {
    const cached = this.cache.get(policy.key);
    if (cached?.digest === policy.digest) return cached.translation;
    const translation = translatePolicy(policy, this.context);
    this.cache.set(policy.key, { digest: policy.digest, translation });
    return translation;
  }

  setNodeLabels(labels: NodeLabels): void {
    this.labels = labels;
  }

  /** A new flavour or environment changes every path: the cache is dropped. */
  configure(options: Partial<Omit<CompilerOptions, 'nodeLabels'>>): void {
    this.translationContext = {
      flavor: options.flavor ?? this.translationContext.flavor,
      environment: options.environment ? withDefaults(options.environment) : this.translationContext.environment,
    };
    this.context = { flavor: this.translationContext.flavor, environment: environmentLookup(this.translationContext.environment) };
    this.contextKeyCache = undefined;
    this.cache.clear();
  }

  /** Drops the cached translation of a removed policy. */
  forget(key: string): void {
    this.cache.delete(key);
  }
}

const contextKeyOf = ({ flavor, environment }: TranslationContext): string =>
  JSON.stringify([flavor, Object.entries(environment).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))]);

class Translator {
  readonly rules: CompiledRule[] = [];
  readonly problems: PolicyProblem[] = [];
  /** Each rule shape's first rule (its action and field name a duplicate or a conflict). */
  private readonly seen = new Map<string, PolicyRule>();
  private readonly origins = new Map<string, RuleOrigin>();
  private lastOrigin: { rule: PolicyRule; origin: RuleOrigin } | undefined;

  constructor(private readonly policy: Policy, private readonly context: PathContext) {}

  add(rule: PolicyRule): void {
    const target = this.path(rule.value, rule.form, rule, rule.recursive);
    // Most rules have no fromSource: no array made for them.
    if (rule.sources.length === 0) {
      if (target) this.push(rule, target, undefined, this.origin(rule));
      return;
    }
    // Every source is checked (and its problems reported) even when the target failed.
    const sources = rule.sources.map((s) => this.source(s));
    if (!target || sources.some((s) => s === undefined)) return;
    const origin = this.origin(rule);
    for (const source of sources as PathMatch[]) this.push(rule, target, source, origin);
  }

  private push(rule: PolicyRule, target: PathMatch, source: PathMatch | undefined, origin: RuleOrigin): void {
    const kind = KINDS[rule.target];
    const action = RuleAction[rule.action];
    const flags = rule.readOnly ? RULE_FLAG_READ_ONLY : 0;
    const canonical = canonicalOf(action, ruleShape({ kind, flags, target, source }, this.context.flavor));
    // Hashed first: hashing flattens the text, and the shape is then a slice of it, not a second copy.
    const id = ruleIdOf(canonical);
    const shape = shapeOf(canonical);
    const earlier = this.seen.get(shape);
    if (earlier) {
      this.duplicate(earlier, rule);
      if (earlier.action === rule.action) return;
    } else {
      this.seen.set(shape, rule);
    }
    const compiled: CompiledRule = source ? { id, kind, action, flags, target, source, origin } : { id, kind, action, flags, target, origin };
    this.rules.push(compiled);
  }

  private duplicate(earlier: PolicyRule, rule: PolicyRule): void {
    const line = this.policy.locate(earlier.field).line;
    if (earlier.action === rule.action) {
      this.problem('warning', 'duplicate', rule.field, `the same rule as ${earlier.field} (line ${line}); it is enforced once`);
    } else {
      this.problem('warning', 'conflict', rule.field, `${rule.action} conflicts with ${earlier.action} for the same path at ${earlier.field} (line ${line}); Block wins over Audit, Audit over Allow`);
    }
  }

  private source(source: SourceSpec): PathMatch | undefined {
    return this.path(source.path, source.form, source, source.recursive);
  }

  /** `at`: the rule or source, whose field path (made when read) a problem names. */
  private path(value: string, form: PolicyRule['form'], at: { readonly field: string }, recursive: boolean): PathMatch | undefined {
    const result = canonicalPath(value, form, this.context);
    if (!result.ok) {
      this.problem('error', result.code, at.field, result.message);
      return undefined;
    }
    // Checked again once expanded: %ProgramFiles% makes a path longer than it was written.
    const limit = driverPathProblem(result.path);
    if (limit) {
      this.problem('error', 'path', at.field, `once expanded to ${result.path.slice(0, 40)}…, ${limit}`);
      return undefined;
    }
    const match = form === 'pattern' ? MatchType.Glob : form === 'path' ? MatchType.Exact : recursive ? MatchType.Recursive : MatchType.Directory;
    return { path: result.path, match };
  }

  /** Rules with the same severity, tags and message share one origin object. */
  private origin(rule: PolicyRule): RuleOrigin {
    // Most rules inherit the policy's severity, message and tags (the same values): the
    // last origin answers without building a key.
    const last = this.lastOrigin;
    if (last && last.rule.severity === rule.severity && last.rule.message === rule.message && last.rule.tags === rule.tags) return last.origin;
    const origin = this.originFor(rule);
    this.lastOrigin = { rule, origin };
    return origin;
  }

  private originFor(rule: PolicyRule): RuleOrigin {
    const key = `${rule.severity}\0${rule.message}\0${rule.tags.join('\0')}`;
    let origin = this.origins.get(key);
    if (!origin) {
      const { kind, namespace, name } = this.policy.identity;
      origin = { kind, ...(namespace !== undefined ? { namespace } : {}), policy: name, severity: rule.severity, tags: rule.tags, message: rule.message };
      this.origins.set(key, origin);
    }
    return origin;
  }

  /** The policy as a whole must fit the driver: its rule count and one APPLY's size. */
  checkDriverLimits(): void {
    const { maxRules, maxRuleBytes } = DRIVER_POLICY_LIMITS;
    if (this.rules.length > maxRules) {
      this.problem('error', 'limit.driver', 'spec', `the policy makes more than ${maxRules} rules (paths × fromSource entries), the driver's table limit (KAWIN_MAX_RULES)`);
      return;
    }
    const bytes = this.rules.reduce((n, r) => n + encodedSize(r), 0);
    if (bytes > maxRuleBytes) {
      this.problem('error', 'limit.driver', 'spec', `the policy's ${this.rules.length} rules take about ${bytes} bytes in the driver, over one APPLY's limit of ${maxRuleBytes} (KAWIN_MAX_IOCTL_INPUT)`);
    }
  }

  private problem(severity: PolicyProblem['severity'], code: ProblemCode, field: string, message: string): void {
    const at = this.policy.locate(field);
    this.problems.push({ severity, code, location: this.policy.location, line: at.line, column: at.column, path: field, message });
  }
}

/** Translation for a context given as data (worker threads build their own lookup). */
export function translateFor(context: TranslationContext): (policy: Policy) => Translation {
  const pathContext: PathContext = { flavor: context.flavor, environment: environmentLookup(context.environment) };
  return (policy) => translatePolicy(policy, pathContext);
}

/** A rule's bytes on the wire, counting the NT device name that replaces a drive letter. */
function encodedSize(rule: DriverRule): number {
  const chars = rule.target.path.length + (rule.source ? rule.source.path.length + 64 : 0) + 64;
  return (RULE.size + 2 * chars + 7) & ~7;
}

export function translatePolicy(policy: Policy, context: PathContext): Translation {
  const translator = new Translator(policy, context);
  for (const rule of policy.rules) {
    translator.add(rule);
    if (translator.rules.length > DRIVER_POLICY_LIMITS.maxRules) break;
  }
  translator.checkDriverLimits();
  return { rules: translator.rules, problems: translator.problems };
}
