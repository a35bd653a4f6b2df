/**
 * Desired store: the one place sources write to. Parses with the policy parser, keeps
 * last-known-good versions, resolves identity conflicts by source precedence.
 */
export { DesiredStore, PREPARED } from './store.js';
export { loggingStoreObserver } from './log.js';
export { LastAppliedFile, type AppliedPolicy } from './last-applied.js';
export type { IdentityConflict, RejectedUnit, StoreListener, StoreObserver } from './store.js';
export type { CheckedDocument, ParsedUnit, PolicyEntry, PolicyIdentity, PolicyParser, PrepareProgress, Problem, SourceDocument, SourceSink, SourceStatus } from './types.js';
