/**
 * The YAML reading of the floor figures of bench:reconcile and bench:policy, as the agent
 * reads a policy text (splitDocuments: the common-shape reader, js-yaml for anything
 * else). bench:reconcile builds it into dist/ as its own entry so that fresh worker
 * threads can load it without tsx.
 */
import { POLICY_LIMITS } from '../../controller/policy/limits.js';
import { splitDocuments } from '../../controller/policy/yaml.js';

/**
 * Reads every text; throws if one is refused or leaves the common-shape reader (a floor
 * must read what the agent reads, the way it reads the benches' texts).
 */
export function readTexts(texts: readonly string[]): void {
  for (const text of texts) {
    const split = splitDocuments(text, POLICY_LIMITS);
    if ('error' in split) throw new Error(split.error.message);
    if (split.documents.some((d) => d.events)) throw new Error('a bench text left the common-shape reader');
  }
}
