/** `kawin status`: the agent's status and every policy's state, through its local admin API. */
import { parseArgs } from 'node:util';
import type { ServiceError } from '@grpc/grpc-js';
import {
  AdminServiceClient, PolicyKind, PolicyState, policyStateToJSON,
  type AgentStatus, type PolicyView,
} from '../../../proto/gen/kawin_admin.js';
// The connection module alone: the client folder's index also holds policy-file reading and formatting (js-yaml, the admin mapping).
import { callOptions, describeError, emptyMetadata, resolveConnection } from '../../grpc/client/connect.js';
import type { CliCommand, CliIO } from '../types.js';

const usage = `usage: kawin status [--output table|json] [--address HOST:PORT] [--config FILE]
                    [--tls-ca F] [--tls-cert F --tls-key F]

Shows the agent (driver, sources, generation, last reconcile) and each policy's state:
applied, partial (some fields not enforceable here), pending, invalid, last_known_good
(newest version rejected, previous in force), not_selected, not_enforced.
Exit code 0 when the agent is ready, 1 when it is not or cannot be reached.`;

const KIND_NAMES: Record<number, string> = {
  [PolicyKind.POLICY_KIND_HOST]: 'KubeArmorHostPolicy',
  [PolicyKind.POLICY_KIND_CONTAINER]: 'KubeArmorPolicy',
  [PolicyKind.POLICY_KIND_CLUSTER]: 'KubeArmorClusterPolicy',
};

function settle<T>(resolve: (v: T) => void, reject: (e: ServiceError) => void) {
  return (e: ServiceError | null, r: T): void => (e ? reject(e) : resolve(r));
}

function getStatus(client: AdminServiceClient): Promise<AgentStatus> {
  return new Promise((resolve, reject) => client.getStatus({}, emptyMetadata(), callOptions(10), settle(resolve, reject)));
}

function listPolicies(client: AdminServiceClient): Promise<PolicyView[]> {
  return new Promise((resolve, reject) => client.listPolicies(
    { kind: PolicyKind.POLICY_KIND_UNSPECIFIED, namespace: '', source: '' }, emptyMetadata(), callOptions(10),
    settle<{ policies: PolicyView[] }>((r) => resolve(r.policies), reject)));
}

function stateName(state: PolicyState): string {
  return policyStateToJSON(state).replace('POLICY_STATE_', '').toLowerCase();
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function driverLine(s: AgentStatus): string {
  const d = s.driver;
  if (!d) return 'driver      unknown';
  const state = d.connected ? 'connected' : 'NOT CONNECTED';
  return `driver      ${state} (${d.mode}), generation ${d.generation}, ${d.ruleCount} rules, ${d.eventsDropped} events dropped`;
}

function sourceLine(src: AgentStatus['sources'][number]): string {
  const revision = src.revision ? `, ${src.revision.slice(0, 19)}` : '';
  const error = src.error ? ` — ${src.error}` : '';
  return `source      ${src.name}: ${src.synced ? 'in sync' : 'NOT IN SYNC'}, ${src.documents} unit(s)${revision}${error}`;
}

function agentLines(s: AgentStatus): string {
  const lastError = s.lastReconcileError ? ` — last error: ${s.lastReconcileError}` : '';
  return [
    `node        ${s.nodeName} (cluster ${s.clusterName}), kawin ${s.version}, up ${Math.round(s.uptimeSeconds)} s`,
    `ready       ${s.ready ? 'yes' : 'no'}`,
    driverLine(s),
    `policies    ${s.policiesApplied} applied, ${s.policiesInvalid} invalid, ${s.policyConflicts} defined more than once, ${s.rejected.length} unit(s) rejected`,
    `subscribers ${s.subscribers}`,
    `reconciled  ${s.lastReconcileTime || 'never'}${lastError}`,
    ...s.sources.map(sourceLine),
    ...s.rejected.map(rejectedLine),
  ].join('\n');
}

/** A unit rejected as a whole, with its first error: what it held before stays in force. */
function rejectedLine(u: AgentStatus['rejected'][number]): string {
  const first = u.problems[0];
  const at = first?.line ? `:${first.line}:${first.column}` : '';
  const more = u.problems.length > 1 ? ` (+${u.problems.length - 1} more)` : '';
  return `rejected    ${u.origin}${at}: ${first?.message ?? 'rejected'}${more}`;
}

/** The first problem (with its line) or the first reason: why a policy is where it is. */
function detailOf(p: PolicyView): string {
  const problem = p.problems[0];
  if (!problem) return p.reasons[0] ?? '';
  return `${problem.line ? `line ${problem.line}: ` : ''}${problem.path} ${problem.message}`;
}

function policyLines(policies: PolicyView[]): string {
  if (!policies.length) return 'no policies';
  const rows = [['KIND', 'NAME', 'STATE', 'RULES', 'SOURCE', 'DETAIL']];
  for (const p of policies) {
    const name = p.ref?.namespace ? `${p.ref.namespace}/${p.ref.name}` : p.ref?.name ?? '';
    rows.push([KIND_NAMES[p.ref?.kind ?? 0] ?? '?', name, stateName(p.state), String(p.ruleCount), p.source, detailOf(p).slice(0, 100)]);
  }
  return table(rows);
}

async function run(argv: string[], io: CliIO): Promise<number> {
  const { values } = parseArgs({
    args: argv, strict: true, allowPositionals: false,
    options: {
      output: { type: 'string', short: 'o', default: 'table' }, address: { type: 'string' }, config: { type: 'string' },
      'tls-ca': { type: 'string' }, 'tls-cert': { type: 'string' }, 'tls-key': { type: 'string' }, 'tls-server-name': { type: 'string' },
    },
  });
  const conn = resolveConnection({
    address: values.address, config: values.config, tlsCa: values['tls-ca'], tlsCert: values['tls-cert'],
    tlsKey: values['tls-key'], tlsServerName: values['tls-server-name'],
  });
  const client = new AdminServiceClient(conn.target, conn.credentials, conn.channelOptions);
  try {
    // Both calls at once: one round trip to wait for, not two.
    const [status, policies] = await Promise.all([getStatus(client), listPolicies(client)]);
    if (values.output === 'json') {
      io.stdout(JSON.stringify({ agent: status, policies: policies.map((p) => ({ ...p, kind: KIND_NAMES[p.ref?.kind ?? 0], state: stateName(p.state) })) }, null, 2));
    } else {
      io.stdout(`${agentLines(status)}\n\n${policyLines(policies)}`);
    }
    return status.ready ? 0 : 1;
  } catch (error) {
    io.stderr(describeError(error, conn.target));
    return 1;
  } finally {
    client.close();
  }
}

export const command: CliCommand = { name: 'status', usage, run };
