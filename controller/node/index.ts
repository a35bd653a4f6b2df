/**
 * Facts about this node as upstream KubeArmor reports them: `nodeObject(input)` (the
 * StateAgent `node` object) and `machineId()` (NodeID: MachineGuid on Windows,
 * /etc/machine-id on Linux).
 */
export { nodeObject, bootTime, POLICY_ENABLED, type NodeInput, type NodeObject } from './node-object.js';
export { machineId, parseMachineGuid, readMachineIdFile, MACHINE_ID_FILES } from './machine-id.js';
