/**
 * NodeRuleSet: the policies known to this node, compiled and merged into the driver
 * rules it should hold. It keeps the last good version of a policy when a new version
 * fails to compile (an unknown variable, a path this flavour cannot enforce), and
 * re-selects everything when the node's labels, flavour or environment change.
 */
import type { DriverRule } from '../../driver/abi/types.js';
import { PolicyCompiler, type CompiledPolicy, type CompilerOptions } from './compiler.js';
import { RuleSetBuilder, type RuleSetChange } from './rule-set.js';
import type { ProvenanceLookup, RuleProvenance } from './provenance.js';
import type { Policy } from './types.js';

interface Held {
  policy: Policy;
  /** The latest compile result, valid or not: what status reports. */
  latest: CompiledPolicy;
}

export class NodeRuleSet implements ProvenanceLookup {
  readonly compiler: PolicyCompiler;
  private readonly builder = new RuleSetBuilder();
  private readonly held = new Map<string, Held>();

  constructor(options: CompilerOptions) {
    this.compiler = new PolicyCompiler(options);
  }

  /** Adds or replaces a policy. An invalid compile leaves the previous rules in force. */
  apply(policy: Policy): { compiled: CompiledPolicy; change: RuleSetChange } {
    const compiled = this.compiler.compile(policy);
    const change = compiled.valid ? this.builder.set(policy.key, compiled) : { added: [], removed: [] };
    if (compiled.valid || !this.held.has(policy.key)) this.held.set(policy.key, { policy, latest: compiled });
    else this.held.get(policy.key)!.latest = compiled;
    return { compiled, change };
  }

  remove(key: string): RuleSetChange {
    this.held.delete(key);
    this.compiler.forget(key);
    return this.builder.delete(key);
  }

  /**
   * New node labels, flavour or environment: every policy is selected (and, for a new
   * flavour or environment, translated) again. A policy that no longer compiles loses
   * its rules, since its old ones were made for the old configuration.
   */
  reconfigure(options: Partial<CompilerOptions>): RuleSetChange {
    if (options.nodeLabels) this.compiler.setNodeLabels(options.nodeLabels);
    if (options.flavor !== undefined || options.environment) this.compiler.configure(options);
    const change: RuleSetChange = { added: [], removed: [] };
    for (const [key, held] of this.held) {
      held.latest = this.compiler.compile(held.policy);
      const one = this.builder.set(key, held.latest.valid ? held.latest : { rules: [] });
      change.added.push(...one.added);
      change.removed.push(...one.removed);
    }
    return change;
  }

  /** The latest compile result of a policy (selection, problems). */
  status(key: string): CompiledPolicy | undefined {
    return this.held.get(key)?.latest;
  }

  keys(): IterableIterator<string> {
    return this.held.keys();
  }

  rules(): ReadonlyMap<bigint, DriverRule> {
    return this.builder.rules();
  }

  lookup(ruleId: bigint): RuleProvenance | undefined {
    return this.builder.lookup(ruleId);
  }
}
