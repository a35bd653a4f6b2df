/**
 * bench:stalled client process: `count` WatchAlerts streams over `connections` HTTP/2
 * connections that never read (no 'data' listener, so grpc-js stops taking bytes once its
 * buffers and the flow-control window are full). Reports admitted and refused over IPC.
 * Usage (forked by run.ts): streams.ts <target> <count> <connections>
 */
import { credentials, type ClientReadableStream } from '@grpc/grpc-js';
import { LogServiceClient } from '../../proto/gen/feeder.js';

const [target, countArg, connectionsArg] = process.argv.slice(2);
const count = Number(countArg);
const clients = Array.from({ length: Number(connectionsArg) }, (_, i) =>
  new LogServiceClient(target!, credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1, 'bench.connection': i }));
const errors: Record<string, number> = {};
const streams: ClientReadableStream<unknown>[] = [];
for (let i = 0; i < count; i++) {
  const s = clients[i % clients.length]!.watchAlerts({ Filter: 'policy' });
  s.on('error', (e: { code: number }) => { errors[e.code] = (errors[e.code] ?? 0) + 1; });
  streams.push(s);
}
process.on('message', (m: string) => {
  if (m === 'report') process.send?.({ errors });
  if (m === 'exit') {
    for (const s of streams) { s.on('error', () => undefined); s.cancel(); }
    for (const c of clients) c.close();
    process.exit(0);
  }
});
process.send?.('ready');
