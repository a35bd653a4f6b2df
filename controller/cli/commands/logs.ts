/**
 * `kawin logs`: watch the agent's live alerts / logs / messages over its KubeArmor
 * LogService (like `karmor logs`), readable or as JSON lines; reconnects when the agent
 * restarts; Ctrl-C ends it cleanly.
 */
import { parseArgs } from 'node:util';
import { credentials, Metadata, status, type ChannelCredentials, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { resolveConnection } from '../../grpc/client/index.js';
import { LogServiceClient, type Alert, type Log, type Message } from '../../../proto/gen/feeder.js';
import { realClock, sleep } from '../../clock/index.js';
import { jsonLine, readableAlert, readableLog, readableMessage } from '../../outputs/index.js';
import { UsageError, type CliCommand, type CliIO } from '../types.js';

export const DEFAULT_LOGS_ADDRESS = '127.0.0.1:32767';
const FILTERS = ['all', 'policy', 'system'] as const;
type Filter = (typeof FILTERS)[number];
type StreamName = 'alerts' | 'logs' | 'messages';

export interface StreamSpec {
  stream: StreamName;
  filter: string;
}

export interface WatchOptions {
  address: string;
  /** TLS / mutual TLS credentials (default: plaintext, as the agent's loopback default). */
  credentials?: ChannelCredentials;
  channelOptions?: Record<string, string | number>;
  streams: StreamSpec[];
  json: boolean;
  /** Reconnect backoff: first and longest wait in milliseconds. */
  retryMs?: { first: number; max: number };
}

const usage = `usage: kawin logs [--alerts] [--logs] [--messages] [--json] [--address host:port] [--filter all|policy|system]
                  [--config FILE] [--tls-ca F] [--tls-cert F --tls-key F] [--tls-server-name N]

Prints the agent's live event stream, one line per event:
  time action result policy operation source → resource
  --alerts / --logs / --messages   streams to watch (default: from --filter)
  --filter   policy = alerts (default), system = logs, all = both (as karmor logs --logFilter)
  --json     one JSON object per line with KubeArmor's field names
  --address  the agent's gRPC address (default: grpc.address of --config or $KAWIN_CONFIG,
             else $KAWIN_GRPC_ADDRESS, else ${DEFAULT_LOGS_ADDRESS})
  --tls-*    TLS to the agent; with --tls-cert/--tls-key, mutual TLS
Reconnects when the agent restarts; Ctrl-C to stop.`;

function parseFilter(filter: string): Filter {
  if (!(FILTERS as readonly string[]).includes(filter)) throw new UsageError(`--filter must be all, policy or system, got '${filter}'`);
  return filter as Filter;
}

type StreamFlags = { alerts?: boolean; logs?: boolean; messages?: boolean; filter?: string };

function wanted(flags: StreamFlags, filter: Filter): { alerts: boolean; logs: boolean } {
  if (flags.alerts || flags.logs || flags.messages) return { alerts: Boolean(flags.alerts), logs: Boolean(flags.logs) };
  return { alerts: filter !== 'system', logs: filter !== 'policy' };
}

/**
 * Which streams to open and the filter each is asked for. Without stream flags,
 * --filter decides as karmor's --logFilter does: policy → alerts, system → logs, all →
 * both. WatchAlerts takes all|policy and WatchLogs all|system.
 */
export function selectStreams(flags: StreamFlags): StreamSpec[] {
  const filter = parseFilter(flags.filter ?? (flags.logs && !flags.alerts ? 'system' : 'policy'));
  const { alerts, logs } = wanted(flags, filter);
  if (alerts && filter === 'system') throw new UsageError('--alerts takes --filter all or policy');
  const all = filter === 'all';
  const out: StreamSpec[] = [];
  if (alerts) out.push({ stream: 'alerts', filter: all ? 'all' : 'policy' });
  if (logs) out.push({ stream: 'logs', filter: all ? 'all' : 'system' });
  if (flags.messages) out.push({ stream: 'messages', filter });
  return out;
}

function healthCheck(client: LogServiceClient, nonce: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.healthCheck({ nonce }, new Metadata(), { deadline: Date.now() + 3000 }, (err, reply) => {
      if (err) reject(err);
      else if (reply.Retval !== nonce) reject(new Error(`health check answered ${reply.Retval}, not the nonce ${nonce}`));
      else resolve();
    });
  });
}

type Outcome = { kind: 'aborted' } | { kind: 'disconnected'; reason: string } | { kind: 'fatal'; reason: string };

function open(client: LogServiceClient, spec: StreamSpec, print: (text: string) => void, json: boolean): ClientReadableStream<unknown> {
  const req = { Filter: spec.filter };
  if (spec.stream === 'alerts') {
    const call = client.watchAlerts(req);
    call.on('data', (a: Alert) => print(json ? jsonLine(a) : readableAlert(a)));
    return call;
  }
  if (spec.stream === 'logs') {
    const call = client.watchLogs(req);
    call.on('data', (l: Log) => print(json ? jsonLine(l) : readableLog(l)));
    return call;
  }
  const call = client.watchMessages(req);
  call.on('data', (m: Message) => print(json ? jsonLine(m) : readableMessage(m)));
  return call;
}

/** Stream until a call ends (agent gone or restarting), a call is refused, or abort. */
function streamAll(client: LogServiceClient, o: WatchOptions, io: CliIO, signal: AbortSignal): Promise<Outcome> {
  return new Promise((resolve) => {
    const calls: ClientReadableStream<unknown>[] = [];
    let done = false;
    const finish = (outcome: Outcome): void => {
      if (done) return;
      done = true;
      signal.removeEventListener('abort', onAbort);
      for (const c of calls) c.cancel();
      resolve(outcome);
    };
    const onAbort = (): void => finish({ kind: 'aborted' });
    signal.addEventListener('abort', onAbort, { once: true });
    for (const spec of o.streams) {
      const call = open(client, spec, io.stdout, o.json);
      call.on('error', (e: ServiceError) => finish(e.code === status.INVALID_ARGUMENT || e.code === status.UNIMPLEMENTED
        ? { kind: 'fatal', reason: e.details || e.message }
        : { kind: 'disconnected', reason: e.details || e.message }));
      call.on('end', () => finish({ kind: 'disconnected', reason: `the agent ended the ${spec.stream} stream` }));
      calls.push(call);
    }
  });
}

/** Watch with reconnects; resolves with the exit code (0 after Ctrl-C / abort). */
export async function watchLogs(o: WatchOptions, io: CliIO, signal: AbortSignal): Promise<number> {
  const retry = o.retryMs ?? { first: 250, max: 5000 };
  let wait = retry.first;
  let down = false;
  while (!signal.aborted) {
    const client = new LogServiceClient(o.address, o.credentials ?? credentials.createInsecure(), o.channelOptions ?? {});
    try {
      await healthCheck(client, (Math.random() * 0x7fffffff) | 0);
      io.stderr(`kawin logs: ${down ? 'reconnected' : 'connected'} to ${o.address}`);
      down = false;
      wait = retry.first;
      const outcome = await streamAll(client, o, io, signal);
      if (outcome.kind === 'fatal') {
        io.stderr(`kawin logs: the agent refused the stream: ${outcome.reason}`);
        return 1;
      }
      if (outcome.kind === 'disconnected') {
        io.stderr(`kawin logs: disconnected (${outcome.reason}); reconnecting`);
        down = true;
      }
    } catch (err) {
      if (!down) io.stderr(`kawin logs: cannot reach the agent at ${o.address} (${(err as Error).message}); retrying`);
      down = true;
    } finally {
      client.close();
    }
    if (signal.aborted) break;
    await sleep(realClock, wait, signal).catch(() => undefined);
    wait = Math.min(wait * 2, retry.max);
  }
  return 0;
}

export const command: CliCommand = {
  name: 'logs',
 
  usage,
  async run(argv, io) {
    const { values } = parseArgs({
      args: argv,
      options: {
        alerts: { type: 'boolean' }, logs: { type: 'boolean' }, messages: { type: 'boolean' }, json: { type: 'boolean' },
        address: { type: 'string' }, filter: { type: 'string' }, config: { type: 'string' },
        'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-server-name': { type: 'string' },
      },
      strict: true,
      allowPositionals: false,
    });
    const streams = selectStreams(values);
    const ac = new AbortController();
    const stop = (): void => ac.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    try {
      const conn = resolveConnection({
        address: values.address, config: values.config, tlsCa: values['tls-ca'], tlsCert: values['tls-cert'],
        tlsKey: values['tls-key'], tlsServerName: values['tls-server-name'],
      });
      const options = { address: conn.target, credentials: conn.credentials, channelOptions: conn.channelOptions };
      return await watchLogs({ ...options, streams, json: Boolean(values.json) }, io, ac.signal);
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};
