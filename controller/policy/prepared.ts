/**
 * A policy text prepared once — parsed, validated, and its enforced rules translated for
 * one compile context — in a form that crosses threads and survives restarts (structured
 * clone, v8.serialize): plain data, no closures. Worker threads produce it, the compile
 * cache stores it, and `hydrate` turns it back into what `parsePolicies` and the compiler
 * would have produced, without parsing.
 *
 * Translated rules travel packed (ids in a BigUint64Array, codes and flags in typed
 * arrays, paths as strings): a rule costs a few array slots instead of three objects.
 * A policy's entries as written (`Policy.rules`, one object per path) do not travel at
 * all: only a translation for another context needs them, and a hydrated policy reads
 * them again from its text on first use. At 100k rules they were 100k objects held
 * for nothing, copied across threads and into the cache.
 */
import { hash } from 'node:crypto';
import type { MatchType, RuleAction, RuleKind } from '../../driver/abi/types.js';
import type { CompiledRule, Translation } from './compiler.js';
import { TextLocator } from './locate.js';
import { parsePolicies } from './parse.js';
import { LineIndex } from './positions.js';
import type { RuleOrigin } from './provenance.js';
import type { ParseResult, ParsedDocument, Policy, PolicyProblem, PolicyRule, Position } from './types.js';

/** A policy without its `locate` closure and its entries (read again from the text when needed). */
export type PreparedPolicy = Omit<Policy, 'locate' | 'rules'>;

export interface PackedTranslation {
  ids: BigUint64Array;
  /** Four bytes a rule: kind, action, target match, source match (0: no source). */
  codes: Uint8Array;
  flags: Uint32Array;
  targets: string[];
  /** '' where the rule has no source. */
  sources: string[];
  /** Index into `origins` of each rule. */
  originOf: Uint32Array;
  origins: RuleOrigin[];
  problems: PolicyProblem[];
}

export interface PreparedDocument extends Omit<ParsedDocument, 'policy'> {
  policy?: PreparedPolicy;
  /** The policy's rules translated for the context the text was prepared for. */
  translation?: PackedTranslation;
}

export interface PreparedText {
  location: string;
  problems: PolicyProblem[];
  documents: PreparedDocument[];
}

/** What a prepared text is valid for: the same bytes at the same location, the same compile context. */
export function preparedKey(text: string, location: string, context: string): string {
  return hash('sha256', `${context}\0${location}\0${text}`, 'hex');
}

/** Parse, validate and translate one text (on whatever thread calls it). */
export function prepareText(text: string, location: string, translate: (policy: Policy) => Translation): PreparedText {
  const parsed = parsePolicies(text, location);
  const documents = parsed.documents.map((doc): PreparedDocument => {
    if (!doc.policy) return doc as PreparedDocument;
    const { locate: _locate, rules: _rules, ...policy } = doc.policy;
    return { ...doc, policy, translation: packTranslation(translate(doc.policy)) };
  });
  return { location, problems: parsed.problems, documents };
}

export function packTranslation(translation: Translation): PackedTranslation {
  const n = translation.rules.length;
  const packed: PackedTranslation = {
    ids: new BigUint64Array(n), codes: new Uint8Array(n * 4), flags: new Uint32Array(n),
    targets: new Array<string>(n), sources: new Array<string>(n), originOf: new Uint32Array(n), origins: [], problems: [...translation.problems],
  };
  const originIndex = new Map<RuleOrigin, number>();
  translation.rules.forEach((rule, i) => {
    packed.ids[i] = rule.id;
    packed.codes[i * 4] = rule.kind;
    packed.codes[i * 4 + 1] = rule.action;
    packed.codes[i * 4 + 2] = rule.target.match;
    packed.codes[i * 4 + 3] = rule.source?.match ?? 0;
    packed.flags[i] = rule.flags;
    packed.targets[i] = rule.target.path;
    packed.sources[i] = rule.source?.path ?? '';
    let o = originIndex.get(rule.origin);
    if (o === undefined) {
      o = packed.origins.push(rule.origin) - 1;
      originIndex.set(rule.origin, o);
    }
    packed.originOf[i] = o;
  });
  return packed;
}

export function unpackTranslation(packed: PackedTranslation): Translation {
  const { ids, codes, flags, targets, sources, originOf, origins } = packed;
  const rules = new Array<CompiledRule>(ids.length);
  for (let i = 0; i < rules.length; i++) {
    const c = i * 4;
    const target = { path: targets[i]!, match: codes[c + 2] as MatchType };
    const origin = origins[originOf[i]!]!;
    // One object literal per shape (no spread): this loop runs once per rule of a cold start.
    rules[i] = codes[c + 3] !== 0
      ? { id: ids[i]!, kind: codes[c] as RuleKind, action: codes[c + 1] as RuleAction, flags: flags[i]!, target, source: { path: sources[i]!, match: codes[c + 3] as MatchType }, origin }
      : { id: ids[i]!, kind: codes[c] as RuleKind, action: codes[c + 1] as RuleAction, flags: flags[i]!, target, origin };
  }
  return { rules, problems: packed.problems };
}

/** A hydrated text: the parse result, and each valid policy's translation by key. */
export interface Hydrated {
  result: ParseResult;
  translations: Map<string, { digest: string; translation: Translation }>;
}

/**
 * The parse result of a prepared text. `locate` re-reads the text's events on first use
 * (a compile-time problem or an admin request), as a parsed policy's does.
 */
export function hydrate(text: string, prepared: PreparedText): Hydrated {
  let locator: TextLocator | undefined;
  let reparsed: ParseResult | undefined;
  const translations = new Map<string, { digest: string; translation: Translation }>();
  const documents = prepared.documents.map((doc): ParsedDocument => {
    const { translation: packed, policy: data, ...rest } = doc;
    if (!data) return rest;
    const index = doc.index;
    const locate = (field: string): Position => (locator ??= new TextLocator(text, new LineIndex(text))).locate(index, field);
    const policy = withEntriesFromText({ ...data, locate } as Policy, () => (reparsed ??= parsePolicies(text, prepared.location)), index);
    if (packed) translations.set(policy.key, { digest: policy.digest, translation: unpackTranslation(packed) });
    return { ...rest, policy };
  });
  return { result: { location: prepared.location, documents, problems: prepared.problems }, translations };
}

/**
 * `policy.rules` read from the text on first use (then kept): the same text parses to
 * the same entries. Not enumerable, so copying a policy never parses.
 */
function withEntriesFromText(policy: Policy, parse: () => ParseResult, index: number): Policy {
  Object.defineProperty(policy, 'rules', {
    configurable: true,
    enumerable: false,
    get(): PolicyRule[] {
      const rules = parse().documents.find((d) => d.index === index)?.policy?.rules ?? [];
      Object.defineProperty(policy, 'rules', { value: rules, configurable: true, enumerable: false, writable: true });
      return rules;
    },
  });
  return policy;
}
