/**
 * The driver client: the typed Driver (rules, state, config, event stream, path
 * translation) over the koffi binding, with one typed error per failure the agent must
 * tell apart.
 */
export { DriverClient, type DriverClientOptions } from './client.js';
export * from './errors.js';
export type { ListingOptions, ListingStats } from './listing.js';
export type { EventStreamSettings } from './event-stream.js';
export type * from './types.js';
export { realTimers } from './types.js';
export type { HostEvent, HostEventBatch } from './host-event.js';
export { DosPathTranslator, identityPaths, pathTranslatorFor, queryDriveMap, type DriveMap } from './paths.js';
