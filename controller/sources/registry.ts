/**
 * Source kinds by name. A new source is a folder under controller/sources exporting a
 * SourceKindDefinition, plus one line in SOURCE_KINDS; the agent creates every enabled
 * kind and asks each for its optional capabilities (see ./types.ts). Only each kind's
 * small definition is imported here: a kind with heavy dependencies imports them in
 * `create`, so what the config does not enable is never loaded.
 */
import { crdSourceKind } from './crd/kind.js';
import { fileSourceKind } from './file/kind.js';
import { grpcSourceKind } from './grpc/kind.js';
import type { SourceKindDefinition } from './types.js';

export const SOURCE_KINDS: readonly SourceKindDefinition[] = [
  fileSourceKind,
  grpcSourceKind,
  crdSourceKind,
];
