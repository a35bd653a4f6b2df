/**
 * The agent's configuration: one JSON file validated against config.schema.json (see
 * docs/config.md), defaults for everything, command-line overrides for the essentials,
 * and a watcher that applies valid changes live and reports invalid ones with their
 * location while the running config stays.
 */
export type { AgentConfig, ConfigOverrides, CrdSourceConfig, DriverSettings, EmulatorConfig, LogFormat, LogLevel, OutputToggles, PolicyKind, Posture, SourceKind, SourcesConfig, TlsConfig } from './types.js';
export { ConfigValidationError, formatProblem } from './errors.js';
export type { ConfigProblem } from './errors.js';
export { loadConfig, parseConfig, pointerToPath } from './load.js';
export type { LoadOptions, ParseOptions } from './load.js';
export { platformDefaults, WINDOWS_DEVICE } from './platform.js';
export type { PlatformDefaults } from './platform.js';
export { parseListenAddress, isLoopbackHost, isUnixAddress, unixSocketPath, canonicalListenAddress, AddressError } from './address.js';
export type { ListenAddress } from './address.js';
export { changedFields } from './diff.js';
export { ConfigWatcher } from './watch.js';
export type { ConfigWatcherObserver, ConfigWatcherOptions } from './watch.js';
