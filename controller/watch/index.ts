/**
 * Watching the file system for "look again" triggers. Events carry no truth (the caller
 * re-reads and compares); they only say when to look. Two pieces, used by every watcher
 * in the agent (the policy file source, the config file):
 *
 * - `watchDirectory`: one non-recursive fs.watch whose errors count as an event;
 * - `Debouncer`: one semantics for turning a stream of events into one look, on the
 *   injected clock — a quiet period after the last event, bounded by a maximum wait
 *   from the first, so a burst coalesces and a steady writer cannot postpone it forever.
 */
export { Debouncer, type DebounceTiming } from './debounce.js';
export { watchDirectory, type DirectoryEvent } from './directory.js';
