/**
 * Helper process for service.test.ts's network-namespace case (run with
 * `ip netns exec <ns> node --import tsx netns.fixture.ts ...`):
 *   server <host:port> <stateDir>  serves PolicyService, prints "PORT <n>", exits when stdin closes
 *   client <target>                sends one hostPolicy ADDED, prints {"code","status"}
 */
import { credentials, Metadata, type ServiceError } from '@grpc/grpc-js';
import { PolicyServiceClient } from '../../../proto/gen/policy.js';
import { GrpcPolicySource } from './source.js';
import { policyServiceBinding } from './service.js';
import { KawinGrpcServer } from '../../grpc/server.js';
import { fakeValidator, recordingSink } from '../../grpc/testing.js';

async function serve(address: string, stateDir: string): Promise<void> {
  const source = new GrpcPolicySource({ stateDir, validate: fakeValidator });
  await source.start(recordingSink().sink);
  const withPolicy = new KawinGrpcServer({ address, shutdownGraceMs: 500 }, [policyServiceBinding(source, { mutualTls: false, unixSocketOnly: false })]);
  const port = await withPolicy.start();
  process.stdout.write(`PORT ${port}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void withPolicy.stop().then(() => process.exit(0)));
}

function call(target: string): void {
  const client = new PolicyServiceClient(target, credentials.createInsecure());
  const policy = Buffer.from(JSON.stringify({ type: 'ADDED', object: { kind: 'KubeArmorHostPolicy', metadata: { name: 'from-netns' }, spec: { action: 'Block' } } }));
  client.hostPolicy({ policy }, new Metadata(), { deadline: Date.now() + 10_000 }, (error: ServiceError | null, response) => {
    process.stdout.write(`${JSON.stringify({ code: error?.code ?? 0, details: error?.details ?? '', status: response?.status ?? null })}\n`);
    client.close();
  });
}

const [mode, a, b] = process.argv.slice(2);
if (mode === 'server') await serve(a!, b!);
else if (mode === 'client') call(a!);
else throw new Error(`usage: netns.fixture.ts server <addr> <stateDir> | client <target>`);
