/**
 * How CLI commands find the agent's config: `--config F`, else $KAWIN_CONFIG, else the
 * platform default (which may be absent: then defaults apply). Client commands (simulate,
 * driver, status, logs, policy) use it to find the same emulator, gRPC address and state
 * directory as the agent.
 */
import { loadConfig, type AgentConfig, type ConfigOverrides } from '../config/index.js';

export const CONFIG_OPTION = { config: { type: 'string' } } as const;

export async function cliConfig(flag: string | undefined, overrides: ConfigOverrides = {}): Promise<AgentConfig> {
  const file = flag ?? process.env.KAWIN_CONFIG;
  return loadConfig(file, overrides, { optional: file === undefined });
}
