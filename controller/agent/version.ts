/** The agent's version, as reported in status, metrics, alerts and StateAgent. */
export const AGENT_VERSION = '0.1.0';
