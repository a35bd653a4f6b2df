/**
 * The agent's outward services: the gRPC server (LogService, PolicyService, StateAgent,
 * admin) and the event pipeline feeding it and the JSON-lines outputs.
 */
import type { Agent } from './agent.js';

export interface AgentServices {
  /** The gRPC address actually bound. */
  address: string | undefined;
  /** Stop taking new desired state (policy RPCs) before the agent stops. */
  stopIntake(): Promise<void>;
  stop(): Promise<void>;
}

export async function startServices(_agent: Agent): Promise<AgentServices> {
  return { address: undefined, stopIntake: async () => {}, stop: async () => {} };
}
