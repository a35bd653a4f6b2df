/** `kawin agent`: the long-running agent. */
import { parseArgs } from 'node:util';
import { createAgentRuntime } from '../../agent/runtime.js';
import { createLogger } from '../../observability/index.js';
import { CONFIG_OPTION, cliConfig } from '../config.js';
import { processFatal, within } from '../fatal.js';
import type { CliCommand, CliIO } from '../types.js';

const usage = `usage: kawin agent [options]

Runs the agent: keeps the driver's rule table equal to the desired policies, streams
its events as KubeArmor alerts and logs, serves metrics and health.

options (override the config file):
  --config FILE            agent config (default: $KAWIN_CONFIG, else the platform default)
  --policies DIR           policy directory for the file source (repeatable)
  --driver emulator|windows
  --grpc-address HOST:PORT
  --metrics-address HOST:PORT
  --state-dir DIR
  --log-level error|warn|info|debug`;

function waitForSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv, allowPositionals: false, strict: true,
    options: {
      ...CONFIG_OPTION,
      policies: { type: 'string', multiple: true },
      driver: { type: 'string' },
      'grpc-address': { type: 'string' },
      'metrics-address': { type: 'string' },
      'state-dir': { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const overrides = {
    policyDirs: values.policies, driverKind: values.driver, grpcAddress: values['grpc-address'],
    metricsAddress: values['metrics-address'], stateDir: values['state-dir'], logLevel: values['log-level'],
  };
  // Listen before starting: a stop requested during start-up is honoured once started.
  const stopSignal = waitForSignal();
  const config = await cliConfig(values.config, overrides);
  const logger = createLogger({ level: config.logging.level, format: config.logging.format, file: config.logging.file });
  processFatal.setShutdownTimeout(config.shutdownTimeoutSeconds * 1000);
  const onReconfigured = (next: typeof config): void => processFatal.setShutdownTimeout(next.shutdownTimeoutSeconds * 1000);
  const runtime = createAgentRuntime({ config, logger, overrides, onReconfigured });
  // An error nothing handled (anywhere in the process, start-up included) stops the agent, bounded, then exits non-zero.
  processFatal.onFatal(async (error) => {
    logger.error('fatal error: shutting down', { error: error.message, stack: error.stack });
    await runtime.stop();
    await logger.close();
  });
  await runtime.start().catch(async (error: Error) => {
    logger.error('start-up failed', { error: error.message, cause: String(error.cause ?? '') });
    await logger.close();
    throw error;
  });
  logger.info('kawin agent running', {
    node: config.hostName, driver: config.driver.kind, policies: config.sources.files.paths, grpc: runtime.grpcAddress,
  });
  const outcome = await Promise.race([stopSignal, runtime.fatal.catch((error: Error) => error)]);
  const failed = outcome instanceof Error;
  logger.info('shutting down', failed ? { error: outcome.message } : { signal: outcome });
  const stopped = await within(runtime.stop(), processFatal.shutdownTimeoutMs);
  if (!stopped) logger.error('shutdown did not finish in time: exiting anyway', { timeoutMs: processFatal.shutdownTimeoutMs });
  await within(logger.close(), processFatal.shutdownTimeoutMs);
  io.stderr(failed ? `kawin agent: ${outcome.message}` : stopped ? 'kawin agent stopped' : 'kawin agent: shutdown timed out');
  return failed || !stopped ? 1 : 0;
}

export const command: CliCommand = { name: 'agent', summary: 'run the agent (reconcile loop, event stream, metrics)', usage, run };
