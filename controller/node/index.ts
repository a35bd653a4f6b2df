/**
 * Facts about this node as upstream KubeArmor reports them: `nodeObject(input)` (the
 * StateAgent `node` object) and `machineId(nodeName)` (NodeID: MachineGuid on Windows,
 * /etc/machine-id on Linux, the node name when neither is readable).
 */
export { nodeObject, bootTime, POLICY_ENABLED, type NodeInput, type NodeObject } from './node-object.js';
export { machineId, machineGuidFromRegOutput, type MachineIdSources } from './machine-id.js';
