/**
 * `kawin policy`: apply, delete, list and diff policies on a running agent over gRPC.
 * `apply` speaks upstream's PolicyService exactly like `karmor vm policy add` (each
 * YAML document as {"type":"ADDED","object":…}, routed by kind), so it also works
 * against KubeArmor; the other subcommands use kawin's admin service.
 */
import { parseArgs } from 'node:util';
import type { Metadata, ServiceError } from '@grpc/grpc-js';
import type { CliCommand, CliIO } from '../types.js';
import { UsageError } from '../types.js';
import { PolicyServiceClient, PolicyStatus, policyStatusToJSON } from '../../../proto/gen/policy.js';
import {
  AdminServiceClient, DeleteOutcome, deleteOutcomeToJSON,
  type DeletePolicyResponse, type DiffPoliciesResponse, type ListPoliciesResponse, type PolicyRef,
} from '../../../proto/gen/kawin_admin.js';
import {
  callOptions, describeError, diagnosticLine, diffHasErrors, diffReport, emptyMetadata, policyTable, readPolicyFiles, refLabel,
  resolveConnection, splitDocuments, type Connection, type PolicyDocumentEntry,
} from '../../grpc/client/index.js';
import { toProtoKind } from '../../grpc/admin.js';
import { TRAILER_MESSAGE, TRAILER_PROBLEMS } from '../../sources/grpc/index.js';

const usage = `usage: kawin policy <apply|delete|list|diff> [options]

  apply  -f <file|dir> ...        apply policies (multi-document YAML/JSON, routed by kind)
  delete <kind>/<name> | <kind>/<namespace>/<name> | -f <file|dir>
  list   [--output table|json]    policies in the agent, with source, state and rule count
  diff   -f <file|dir> ...        what applying would change in the driver, without applying
                                  (exit 0: no change, 1: changes, 2: error)

connection:
  --address <host:port>   default: grpc.address of --config, $KAWIN_GRPC_ADDRESS, 127.0.0.1:32767
  --config <config.json>  read the default address from the agent's config
  --tls-ca <pem>          verify the server with this CA (enables TLS)
  --tls-cert <pem> --tls-key <pem>   client certificate for mutual TLS
  --tls-server-name <name>           name expected in the server certificate

kinds: KubeArmorHostPolicy (hostpolicy, khp), KubeArmorPolicy (policy, ksp)`;

const options = {
  file: { type: 'string', short: 'f', multiple: true },
  output: { type: 'string', short: 'o', default: 'table' },
  address: { type: 'string' },
  config: { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-server-name': { type: 'string' },
} as const;

type Values = ReturnType<typeof parseArgs<{ options: typeof options; allowPositionals: true }>>['values'];

const ROUTES: Record<string, 'hostPolicy' | 'containerPolicy'> = { KubeArmorHostPolicy: 'hostPolicy', KubeArmorPolicy: 'containerPolicy' };
const KIND_ALIASES: Record<string, string> = {
  kubearmorhostpolicy: 'KubeArmorHostPolicy', hostpolicy: 'KubeArmorHostPolicy', khp: 'KubeArmorHostPolicy', hsp: 'KubeArmorHostPolicy',
  kubearmorpolicy: 'KubeArmorPolicy', policy: 'KubeArmorPolicy', ksp: 'KubeArmorPolicy',
  kubearmorclusterpolicy: 'KubeArmorClusterPolicy', clusterpolicy: 'KubeArmorClusterPolicy', csp: 'KubeArmorClusterPolicy',
};

function connection(v: Values): Connection {
  return resolveConnection({ address: v.address, config: v.config, tlsCa: v['tls-ca'], tlsCert: v['tls-cert'], tlsKey: v['tls-key'], tlsServerName: v['tls-server-name'] });
}

function requireFiles(v: Values, sub: string): string[] {
  if (!v.file?.length) throw new UsageError(`policy ${sub} needs -f <file|dir>`);
  return v.file;
}

async function documents(paths: string[]): Promise<PolicyDocumentEntry[]> {
  return (await readPolicyFiles(paths)).flatMap(splitDocuments);
}

function trailerText(md: Metadata | undefined, key: string): string | undefined {
  const value = md?.get(key)[0];
  return value === undefined ? undefined : decodeURIComponent(String(value));
}

/** One PolicyService call; resolves with the status and kawin's trailer detail. */
function sendPolicy(client: PolicyServiceClient, rpc: 'hostPolicy' | 'containerPolicy', object: unknown) {
  const policy = Buffer.from(JSON.stringify({ type: 'ADDED', object }));
  return new Promise<{ status: PolicyStatus; trailer?: Metadata }>((resolve, reject) => {
    let trailer: Metadata | undefined;
    const call = client[rpc]({ policy }, emptyMetadata(), callOptions(), (e: ServiceError | null, r) =>
      (e ? reject(e) : setImmediate(() => resolve({ status: r.status, trailer }))));
    call.on('status', (s: { metadata: Metadata }) => { trailer = s.metadata; });
  });
}

function printOutcome(io: CliIO, doc: PolicyDocumentEntry, status: PolicyStatus, trailer?: Metadata): void {
  const detail = trailerText(trailer, TRAILER_MESSAGE);
  const ok = status === PolicyStatus.Applied || status === PolicyStatus.Modified;
  (ok ? io.stdout : io.stderr)(`${doc.location}: ${doc.kind}/${doc.name}: ${policyStatusToJSON(status)}${!ok && detail ? ` (${detail})` : ''}`);
  const problems = trailerText(trailer, TRAILER_PROBLEMS);
  if (problems) for (const p of JSON.parse(problems) as Parameters<typeof diagnosticLine>[0][]) io.stderr(`  ${diagnosticLine(p)}`);
}

async function apply(v: Values, io: CliIO): Promise<number> {
  const docs = await documents(requireFiles(v, 'apply'));
  const conn = connection(v);
  const client = new PolicyServiceClient(conn.target, conn.credentials, conn.channelOptions);
  let failed = 0;
  try {
    for (const doc of docs) {
      const rpc = ROUTES[doc.kind];
      if (!rpc) {
        io.stderr(`${doc.location}: kind ${JSON.stringify(doc.kind)} cannot be applied (use KubeArmorHostPolicy or KubeArmorPolicy)`);
        failed++;
        continue;
      }
      const { status, trailer } = await sendPolicy(client, rpc, doc.object);
      printOutcome(io, doc, status, trailer);
      if (status !== PolicyStatus.Applied && status !== PolicyStatus.Modified) failed++;
    }
  } catch (error) {
    io.stderr(describeError(error, conn.target));
    return 1;
  } finally {
    client.close();
  }
  if (docs.length === 0) io.stderr('no policy documents found');
  return failed > 0 || docs.length === 0 ? 1 : 0;
}

function parseRef(text: string): PolicyRef {
  const parts = text.split('/');
  const kind = KIND_ALIASES[parts[0]!.toLowerCase()];
  if (!kind || parts.length < 2 || parts.length > 3 || parts.some((p) => p === '')) {
    throw new UsageError(`cannot read ${JSON.stringify(text)} as <kind>/<name> or <kind>/<namespace>/<name>`);
  }
  return { kind: toProtoKind(kind), namespace: parts.length === 3 ? parts[1]! : '', name: parts[parts.length - 1]! };
}

function adminCall<Req, Res>(client: AdminServiceClient, method: 'deletePolicy' | 'listPolicies' | 'diffPolicies', request: Req): Promise<Res> {
  const fn = client[method].bind(client) as unknown as (r: Req, md: Metadata, o: object, cb: (e: Error | null, r: Res) => void) => void;
  return new Promise((resolve, reject) => fn(request, emptyMetadata(), callOptions(), (e, r) => (e ? reject(e) : resolve(r))));
}

/** Runs `run` with an admin client; a failed call prints why and exits `errorCode`. */
async function withAdmin(v: Values, io: CliIO, run: (client: AdminServiceClient) => Promise<number>, errorCode = 1): Promise<number> {
  const conn = connection(v);
  const client = new AdminServiceClient(conn.target, conn.credentials, conn.channelOptions);
  try {
    return await run(client);
  } catch (error) {
    io.stderr(describeError(error, conn.target));
    return errorCode;
  } finally {
    client.close();
  }
}

async function remove(v: Values, positionals: string[], io: CliIO): Promise<number> {
  const refs = positionals.map(parseRef);
  if (v.file?.length) {
    for (const doc of await documents(v.file)) refs.push({ kind: toProtoKind(doc.kind), namespace: doc.namespace ?? '', name: doc.name });
  }
  if (refs.length === 0) throw new UsageError('policy delete needs <kind>/<name> or -f <file|dir>');
  return withAdmin(v, io, async (client) => {
    let failed = 0;
    for (const ref of refs) {
      const r = await adminCall<{ ref: PolicyRef }, DeletePolicyResponse>(client, 'deletePolicy', { ref });
      const ok = r.outcome === DeleteOutcome.DELETE_OUTCOME_DELETED;
      (ok ? io.stdout : io.stderr)(`${refLabel(ref)}: ${deleteOutcomeToJSON(r.outcome).replace('DELETE_OUTCOME_', '').toLowerCase()}${!ok && r.message ? ` (${r.message})` : ''}`);
      if (!ok) failed++;
    }
    return failed > 0 ? 1 : 0;
  });
}

async function list(v: Values, io: CliIO): Promise<number> {
  if (v.output !== 'table' && v.output !== 'json') throw new UsageError(`--output must be table or json, got ${v.output}`);
  return withAdmin(v, io, async (client) => {
    const r = await adminCall<object, ListPoliciesResponse>(client, 'listPolicies', { kind: 0, namespace: '', source: '' });
    io.stdout(v.output === 'json' ? JSON.stringify(r.policies, null, 2) : policyTable(r.policies));
    return 0;
  });
}

async function diff(v: Values, io: CliIO): Promise<number> {
  const files = await readPolicyFiles(requireFiles(v, 'diff'));
  return withAdmin(v, io, async (client) => {
    const r = await adminCall<object, DiffPoliciesResponse>(client, 'diffPolicies', { documents: files.map((f) => ({ text: f.text, location: f.path })) });
    io.stdout(diffReport(r));
    if (diffHasErrors(r)) return 2;
    return r.changed ? 1 : 0;
  }, 2);
}

export const command: CliCommand = {
  name: 'policy',
 
  usage,
  async run(argv, io) {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    const [sub, ...rest] = positionals;
    switch (sub) {
      case 'apply': return apply(values, io);
      case 'delete': return remove(values, rest, io);
      case 'list': return list(values, io);
      case 'diff': return diff(values, io).catch((error: Error) => { io.stderr(error.message); return 2; });
      default: throw new UsageError(sub ? `unknown subcommand '${sub}'` : 'missing subcommand');
    }
  },
};
