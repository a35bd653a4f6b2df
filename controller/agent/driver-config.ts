/**
 * What the agent's config means for the driver: its path flavour, the environment that
 * policies' %VARIABLES% expand from, and the driver config (postures, event mask).
 */
import { Flavor, Posture, REPORT, type DriverConfig } from '../../driver/abi/types.js';
import type { AgentConfig } from '../config/index.js';

export function flavorOf(config: AgentConfig): Flavor {
  if (config.driver.kind === 'windows') return Flavor.Windows;
  return config.driver.emulator.flavor === 'posix' ? Flavor.Posix : Flavor.Windows;
}

export function nodeEnvironment(config: AgentConfig): Record<string, string> | undefined {
  // On a real Windows node the variables policies may use are the node's own.
  if (config.driver.kind !== 'windows' || process.platform !== 'win32') return undefined;
  return Object.fromEntries(Object.entries(process.env).filter((e): e is [string, string] => e[1] !== undefined));
}

export function driverConfigOf(config: AgentConfig): DriverConfig {
  const posture = (p: 'audit' | 'block'): Posture => (p === 'block' ? Posture.Block : Posture.Audit);
  let eventMask = 0;
  if (config.hostTelemetry.process) eventMask |= REPORT.unmatchedProcess | REPORT.processExit;
  if (config.hostTelemetry.file) eventMask |= REPORT.unmatchedFile;
  return {
    caseFold: flavorOf(config) === Flavor.Windows,
    eventMask,
    processPosture: posture(config.postures.process),
    filePosture: posture(config.postures.file),
    networkPosture: posture(config.postures.network),
    registryPosture: posture(config.postures.registry),
  };
}
