/** Client helpers for kawin's gRPC API (used by the CLI): connection and policy files. */
export { resolveConnection, callOptions, describeError, emptyMetadata } from './connect.js';
export type { Connection, ConnectOptions } from './connect.js';
export { readPolicyFiles, splitDocuments } from './documents.js';
export { diagnosticLine, diffHasErrors, diffReport, policyTable, refLabel, table } from './format.js';
export type { PolicyDocumentEntry, PolicyFile } from './documents.js';
