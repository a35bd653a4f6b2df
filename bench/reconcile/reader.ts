/**
 * The YAML reading of bench:reconcile's floor figures, as the agent reads a policy text
 * (splitDocuments: the common-shape reader, js-yaml for anything else). Built into
 * dist/ as its own entry so that fresh worker threads can load it without tsx.
 */
import { POLICY_LIMITS } from '../../controller/policy/limits.js';
import { splitDocuments } from '../../controller/policy/yaml.js';

/** Reads every text; throws if one is refused (the floor must read what the agent reads). */
export function readTexts(texts: readonly string[]): void {
  for (const text of texts) {
    const split = splitDocuments(text, POLICY_LIMITS);
    if ('error' in split) throw new Error(split.error.message);
  }
}
