/**
 * The manager of runnables: every long-running part of the agent is a Runnable added to
 * one Manager, which starts it (whenever it is added), stops it (in reverse, with a
 * deadline) and reports readiness as the conjunction of the parts'.
 */
export { Manager, type ManagerOptions } from './manager.js';
export type { Runnable } from './runnable.js';
