/** What kawin knows about the node it runs on, beyond its config: its machine id. */
export { machineId, machineGuidFromRegOutput, type MachineIdSources } from './machine-id.js';
