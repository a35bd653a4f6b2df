/** `kawin agent`: the long-running agent. */
import { Writable } from 'node:stream';
import { parseArgs } from 'node:util';
import { createAgentRuntime } from '../../agent/runtime.js';
import { createLogger, type RootLogger } from '../../observability/index.js';
import { CONFIG_OPTION, cliConfig } from '../config.js';
import { processFatal, within } from '../fatal.js';
import type { CliCommand, CliIO } from '../types.js';
import { SERVICE_NAME } from '../../winservice/constants.js';
import type { ServiceEventLog, ServiceSession } from '../../winservice/index.js';

const usage = `usage: kawin agent [options]

Runs the agent: keeps the driver's rule table equal to the desired policies, streams
its events as KubeArmor alerts and logs, serves metrics and health. Started by the
Windows Service Control Manager it runs as the kawin service (see 'kawin service').

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

type AgentOptions = ReturnType<typeof parseAgentArgs>;

function parseAgentArgs(argv: string[]) {
  return parseArgs({
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
  }).values;
}

/** What a Windows service adds around the agent's run: SCM status, Event Log, no console. */
interface ServiceHooks {
  session: ServiceSession;
  events: ServiceEventLog;
}

async function runAgent(values: AgentOptions, io: CliIO, stopSignal: Promise<string>, service?: ServiceHooks): Promise<number> {
  const overrides = {
    policyDirs: values.policies, driverKind: values.driver, grpcAddress: values['grpc-address'],
    metricsAddress: values['metrics-address'], stateDir: values['state-dir'], logLevel: values['log-level'],
  };
  const config = await cliConfig(values.config, overrides);
  const logger = createLogger({ ...config.logging, ...(service ? { stream: discard() } : {}) });
  processFatal.setShutdownTimeout(config.shutdownTimeoutSeconds * 1000);
  const onReconfigured = (next: typeof config): void => processFatal.setShutdownTimeout(next.shutdownTimeoutSeconds * 1000);
  const runtime = createAgentRuntime({ config, logger, overrides, onReconfigured });
  // An error nothing handled (anywhere in the process, start-up included) stops the agent, bounded, then exits non-zero.
  processFatal.onFatal((error) => stopAfterFatal(error, runtime, logger, service));
  await runtime.start().catch(async (error: Error) => {
    logger.error('start-up failed', { error: error.message, cause: String(error.cause ?? '') });
    await logger.close();
    throw error;
  });
  logger.info('kawin agent running', {
    node: config.hostName, driver: config.driver.kind, policies: config.sources.files.paths, grpc: runtime.grpcAddress,
    ...(service ? { service: SERVICE_NAME } : {}),
  });
  service?.session.running();
  service?.events.started(`kawin agent running (node ${config.hostName}, driver ${config.driver.kind}, gRPC ${runtime.grpcAddress})`);
  const outcome = await Promise.race([stopSignal, runtime.fatal.catch((error: Error) => error)]);
  const failed = outcome instanceof Error;
  service?.session.stopping();
  logger.info('shutting down', failed ? { error: outcome.message } : { signal: outcome });
  const stopped = await stopBounded(runtime, logger);
  if (service) reportStop(service.events, outcome, stopped);
  io.stderr(failed ? `kawin agent: ${outcome.message}` : stopped ? 'kawin agent stopped' : 'kawin agent: shutdown timed out');
  return failed || !stopped ? 1 : 0;
}

async function stopAfterFatal(error: Error, runtime: { stop(): Promise<void> }, logger: RootLogger, service?: ServiceHooks): Promise<void> {
  logger.error('fatal error: shutting down', { error: error.message, stack: error.stack });
  service?.session.stopping();
  await runtime.stop();
  await logger.close();
  if (!service) return;
  service.events.fatal(`kawin agent stopped after a fatal error: ${error.message}`);
  await service.session.stopped(1);
}

function reportStop(events: ServiceEventLog, outcome: string | Error, stopped: boolean): void {
  if (outcome instanceof Error) events.fatal(`kawin agent stopped after a fatal error: ${outcome.message}`);
  else events.stopped(`kawin agent stopped (${outcome})${stopped ? '' : ', shutdown timed out'}`);
}

/** Stops the runtime and closes the logger, each within the shutdown timeout; false when the runtime did not stop in time. */
async function stopBounded(runtime: { stop(): Promise<void> }, logger: RootLogger): Promise<boolean> {
  const stopped = await within(runtime.stop(), processFatal.shutdownTimeoutMs);
  if (!stopped) logger.error('shutdown did not finish in time: exiting anyway', { timeoutMs: processFatal.shutdownTimeoutMs });
  await within(logger.close(), processFatal.shutdownTimeoutMs);
  return stopped;
}

/** A console stream for a service, which has none: lines go to the log file only. */
function discard(): Writable {
  return new Writable({ write: (_chunk, _encoding, done) => done() });
}

/** On Windows, the SCM session when the SCM started this process; null in a console. */
async function enterService(): Promise<ServiceHooks | null> {
  if (process.platform !== 'win32') return null;
  const ws = await import('../../winservice/index.js');
  const advapi = ws.loadAdvapi();
  const session = await ws.enterServiceDispatcher(advapi);
  if (!session) return null;
  const events = ws.openEventLog(advapi, (what, error) => process.emitWarning(`${what} failed (Win32 error ${error})`));
  return { session, events };
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const values = parseAgentArgs(argv);
  const service = await enterService();
  // Listen before starting: a stop requested during start-up is honoured once started.
  if (!service) return runAgent(values, io, waitForSignal());
  let code = 1;
  try {
    code = await runAgent(values, io, service.session.stopRequested, service);
    return code;
  } catch (error) {
    service.events.fatal(`kawin agent failed to start: ${(error as Error).message}`);
    throw error;
  } finally {
    // STOPPED is reported here, never from the control handler (see winservice/host.ts).
    await service.session.stopped(code);
    service.events.close();
  }
}

export const command: CliCommand = { name: 'agent', usage, run };
