/**
 * kawin.admin.v1.AdminService over an AdminBackend the agent implements: list, get,
 * delete and dry-run diff of policies, and agent status. DeletePolicy changes
 * enforcement, so it follows PolicyService's rule (loopback or mutual TLS only).
 */
import { nextTurn } from '../clock/index.js';
import type { Logger } from '../observability/index.js';
import { status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import {
  AdminServiceService, PolicyKind,
  type AgentStatus, type DeletePolicyRequest, type DeletePolicyResponse, type Diagnostic, type DiffPoliciesRequest,
  type DiffPoliciesResponse, type GetPolicyRequest, type GetPolicyResponse, type ListPoliciesRequest, type PolicyDocument,
  type PolicyRef, type PolicyView,
} from '../../proto/gen/kawin_admin.js';
import { checkPolicyPeer, type PeerPolicy } from './peer.js';
import { RequestGate } from './gate.js';
import type { GrpcServiceBinding } from './binding.js';

type MaybePromise<T> = T | Promise<T>;

/** Implemented by the agent (store, compiler, reconciler, sources). */
export interface AdminBackend {
  listPolicies(filter: ListPoliciesRequest): MaybePromise<PolicyView[]>;
  /** undefined: no such policy (NOT_FOUND). */
  getPolicy(ref: PolicyRef): MaybePromise<GetPolicyResponse | undefined>;
  deletePolicy(ref: PolicyRef): MaybePromise<DeletePolicyResponse>;
  /** What applying `documents` would change in the driver, without applying. */
  diff(documents: PolicyDocument[]): MaybePromise<DiffPoliciesResponse>;
  status(): MaybePromise<AgentStatus>;
}

const KINDS: Record<string, PolicyKind> = {
  KubeArmorHostPolicy: PolicyKind.POLICY_KIND_HOST,
  KubeArmorPolicy: PolicyKind.POLICY_KIND_CONTAINER,
  KubeArmorClusterPolicy: PolicyKind.POLICY_KIND_CLUSTER,
};

export function toProtoKind(kind: string): PolicyKind {
  return KINDS[kind] ?? PolicyKind.POLICY_KIND_UNSPECIFIED;
}

export function fromProtoKind(kind: PolicyKind): string | undefined {
  return Object.keys(KINDS).find((k) => KINDS[k] === kind);
}

/** The store's Problem (or any {location, line?, column?, path?, message}) as a Diagnostic. */
export function toDiagnostic(p: { location: string; line?: number; column?: number; path?: string; message: string }): Diagnostic {
  return { location: p.location, line: p.line ?? 0, column: p.column ?? 0, path: p.path ?? '', message: p.message };
}

function invalidRef(ref: PolicyRef | undefined): string | undefined {
  if (!ref) return 'ref is required';
  if (ref.kind === PolicyKind.POLICY_KIND_UNSPECIFIED) return 'ref.kind is required';
  if (!ref.name) return 'ref.name is required';
  return undefined;
}

/** An answer with a gRPC error status instead of a response. */
class Refusal {
  constructor(readonly code: status, readonly details: string) {}
}

function unary<Req, Res>(name: string, logger: Logger | undefined, run: (call: ServerUnaryCall<Req, Res>) => MaybePromise<Res | Refusal>) {
  return (call: ServerUnaryCall<Req, Res>, callback: sendUnaryData<Res>): void => {
    Promise.resolve()
      .then(() => run(call))
      .then(
        (result) => (result instanceof Refusal ? callback({ code: result.code, details: result.details }) : callback(null, result)),
        (error: Error) => {
          logger?.error('admin RPC failed', { rpc: name, error: error.message });
          callback({ code: status.INTERNAL, details: `${name} failed: ${error.message}` });
        },
      );
  };
}


/**
 * `diffs` bounds DiffPolicies at once (default: one). A diff starts on a later turn of
 * the event loop than its arrival, so that requests arriving together see each other
 * and the pipeline's I/O runs between two diffs.
 */
export function adminServiceBinding(
  backend: AdminBackend, peers: PeerPolicy, logger?: Logger,
  diffs = new RequestGate('DiffPolicies', 1, 'grpc.maxConcurrentDiffs'),
): GrpcServiceBinding {
  const implementation: UntypedServiceImplementation = {
    listPolicies: unary<ListPoliciesRequest, { policies: PolicyView[] }>('ListPolicies', logger, async (call) => ({ policies: await backend.listPolicies(call.request) })),
    getPolicy: unary<GetPolicyRequest, GetPolicyResponse>('GetPolicy', logger, async (call) => {
      const bad = invalidRef(call.request.ref);
      if (bad) return new Refusal(status.INVALID_ARGUMENT, bad);
      return (await backend.getPolicy(call.request.ref!)) ?? new Refusal(status.NOT_FOUND, `no policy ${fromProtoKind(call.request.ref!.kind)}/${call.request.ref!.name}`);
    }),
    deletePolicy: unary<DeletePolicyRequest, DeletePolicyResponse>('DeletePolicy', logger, (call) => {
      const refused = checkPolicyPeer(call, peers);
      if (refused) return new Refusal(refused.code, refused.details);
      const bad = invalidRef(call.request.ref);
      if (bad) return new Refusal(status.INVALID_ARGUMENT, bad);
      return backend.deletePolicy(call.request.ref!);
    }),
    diffPolicies: unary<DiffPoliciesRequest, DiffPoliciesResponse>('DiffPolicies', logger, async (call) => {
      if (!diffs.tryEnter()) return new Refusal(status.RESOURCE_EXHAUSTED, diffs.refusal());
      try {
        await nextTurn();
        return await backend.diff(call.request.documents);
      } finally {
        diffs.leave();
      }
    }),
    getStatus: unary<unknown, AgentStatus>('GetStatus', logger, () => backend.status()),
  };
  return { name: 'kawin.admin.v1.AdminService', definition: AdminServiceService, implementation, changesPolicy: true };
}
