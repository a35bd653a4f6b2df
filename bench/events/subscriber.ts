/**
 * bench:events subscriber process: `clients` real grpc-js LogService clients (each on its
 * own connection, like separate karmor processes) watching alerts from `target`. They
 * decode every Alert as karmor does and count. The parent asks for counts over IPC.
 * Usage (forked by run.ts): subscriber.ts <target> <clients>
 */
import { credentials } from '@grpc/grpc-js';
import { LogServiceClient, type Alert } from '../../proto/gen/feeder.js';

export interface SubscriberReport {
  received: number[];
  /** Epoch ms (sub-ms precision) of the first and last message over all clients. */
  firstAt: number;
  lastAt: number;
  errors: string[];
}

const [target, clientsArg] = process.argv.slice(2);
const clients = Number(clientsArg ?? '1');
const now = (): number => performance.timeOrigin + performance.now();
const report: SubscriberReport = { received: new Array<number>(clients).fill(0), firstAt: 0, lastAt: 0, errors: [] };
const conns: LogServiceClient[] = [];

for (let i = 0; i < clients; i++) {
  const client = new LogServiceClient(target!, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
  conns.push(client);
  const call = client.watchAlerts({ Filter: 'policy' });
  call.on('data', (a: Alert) => {
    if (a.Type === 'SystemEvent') return; // a drop notice, not an event
    const t = now();
    if (report.firstAt === 0) report.firstAt = t;
    report.lastAt = t;
    report.received[i]!++;
  });
  call.on('error', (e: Error) => { if (!/CANCELLED|Cancelled/.test(e.message)) report.errors.push(e.message); });
}

process.on('message', (m: string) => {
  if (m === 'report') process.send?.(report);
  if (m === 'reset') {
    report.received.fill(0);
    report.firstAt = 0;
    report.lastAt = 0;
  }
  if (m === 'exit') {
    for (const c of conns) c.close();
    process.exit(0);
  }
});
process.send?.('ready');
