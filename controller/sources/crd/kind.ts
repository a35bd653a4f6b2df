/**
 * The `crd` source kind. Its implementation (and @kubernetes/client-node, the largest
 * dependency kawin has) is imported only when the config enables the kind, so an agent
 * that reads policies from files alone never loads it.
 */
import type { SourceKindDefinition } from '../types.js';

export const crdSourceKind: SourceKindDefinition = {
  kind: 'crd',
  enabled: (config) => config.sources.crd.enabled,
  create: async (context) => new (await import('./source.js')).CrdSource(context),
};
