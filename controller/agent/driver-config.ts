/** What the agent's config means for the driver's own config (postures, event mask, case folding). */
import { Flavor, Posture, REPORT, type DriverConfig } from '../../driver/abi/types.js';
import type { AgentConfig } from '../config/index.js';

export function driverConfigOf(config: AgentConfig, flavor: Flavor): DriverConfig {
  const posture = (p: 'audit' | 'block'): Posture => (p === 'block' ? Posture.Block : Posture.Audit);
  let eventMask = 0;
  if (config.hostTelemetry.process) eventMask |= REPORT.unmatchedProcess | REPORT.processExit;
  if (config.hostTelemetry.file) eventMask |= REPORT.unmatchedFile;
  return {
    caseFold: flavor === Flavor.Windows,
    eventMask,
    processPosture: posture(config.postures.process),
    filePosture: posture(config.postures.file),
    networkPosture: posture(config.postures.network),
    registryPosture: posture(config.postures.registry),
  };
}
