/**
 * bench:events subscriber process: `clients` real grpc-js LogService clients (each on its
 * own connection, like separate karmor processes) watching alerts from `target`.
 * In `raw` mode (default) a client takes each message's bytes and fully decodes one in
 * SAMPLE to check it is a well-formed Alert: decoding every message with ts-proto in one
 * Node process would measure ts-proto's decoder (karmor decodes in Go), not the server.
 * `decode` mode decodes everything. The parent asks for counts over IPC.
 * `window`: the client's HTTP/2 receive window in bytes (grpc-node.flow_control_window;
 * 0: grpc-js's default, 64 KiB).
 * Usage (forked by run.ts): subscriber.ts <target> <clients> [raw|decode] [window]
 */
import { credentials, makeGenericClientConstructor, type ClientReadableStream } from '@grpc/grpc-js';
import { Alert, LogServiceService } from '../../proto/gen/feeder.js';

export interface SubscriberReport {
  received: number[];
  /** Epoch ms (sub-ms precision) of the first and last message over all clients. */
  firstAt: number;
  lastAt: number;
  checked: number;
  errors: string[];
}

const SAMPLE = 1000;
const [target, clientsArg, mode = 'raw', windowArg = '0'] = process.argv.slice(2);
const clients = Number(clientsArg ?? '1');
const now = (): number => performance.timeOrigin + performance.now();
const report: SubscriberReport = { received: new Array<number>(clients).fill(0), firstAt: 0, lastAt: 0, checked: 0, errors: [] };

const RawLogService = {
  ...LogServiceService,
  watchAlerts: { ...LogServiceService.watchAlerts, responseDeserialize: (b: Buffer): Buffer => b },
};
const RawClient = makeGenericClientConstructor(RawLogService, 'feeder.LogService');
type WatchAlerts = (req: { Filter: string }) => ClientReadableStream<Buffer | Alert>;

function check(bytes: Buffer): void {
  const a = Alert.decode(bytes);
  if (a.Type !== 'MatchedHostPolicy' || a.PolicyName === '' || a.Resource === '') report.errors.push(`malformed alert: ${JSON.stringify(a)}`);
  report.checked++;
}

function isNotice(m: Buffer | Alert): boolean {
  // A broker drop notice (Type SystemEvent) is not an event; in raw mode look for its type text.
  return Buffer.isBuffer(m) ? m.includes('SystemEvent') : m.Type === 'SystemEvent';
}

const conns: InstanceType<typeof RawClient>[] = [];
for (let i = 0; i < clients; i++) {
  const window = Number(windowArg) > 0 ? { 'grpc-node.flow_control_window': Number(windowArg) } : {};
  const client = new RawClient(target!, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, ...window });
  conns.push(client);
  const watch = (mode === 'decode'
    ? (req: { Filter: string }) => client.makeServerStreamRequest('/feeder.LogService/WatchAlerts', LogServiceService.watchAlerts.requestSerialize, Alert.decode, req)
    : (client as unknown as { watchAlerts: WatchAlerts }).watchAlerts.bind(client)) as WatchAlerts;
  const call = watch({ Filter: 'policy' });
  call.on('data', (m: Buffer | Alert) => {
    if (isNotice(m)) return;
    const t = now();
    if (report.firstAt === 0) report.firstAt = t;
    report.lastAt = t;
    if (report.received[i]!++ % SAMPLE === 0 && Buffer.isBuffer(m)) check(m);
  });
  call.on('error', (e: Error) => { if (!/CANCELLED|Cancelled/.test(e.message)) report.errors.push(e.message); });
}

process.on('message', (m: string) => {
  if (m === 'report') process.send?.(report);
  if (m === 'exit') {
    for (const c of conns) c.close();
    process.exit(0);
  }
});
process.send?.('ready');
