/**
 * GrpcPolicySource: policies applied through policy.PolicyService. Answers exactly as
 * upstream (identical in meaning → Applied, changed → Modified, new → Applied, delete → Deleted,
 * unknown → NotExist, bad JSON / empty name / failed validation → Invalid, kind
 * disabled → NotEnabled), persists what it holds in `<stateDir>/grpc-policies/`,
 * restores it on start, and reports each policy to the store as one SourceDocument
 * (origin `grpc:<kind>/[<namespace>/]<name>`, the policy JSON as text). An invalid
 * request changes nothing: not the files, not the store.
 */
import type { Logger } from '../../observability/index.js';
import { createHash } from 'node:crypto';
import type { PolicySource, SourceSink } from '../types.js';
import type { GrpcServiceBinding, PeerPolicy } from '../../grpc/index.js';
import { policyServiceBinding } from './service.js';
import { canonicalJson, objectIdentity, originOf, parsePolicyEvent, PolicyEventError, type PolicyEvent } from './event.js';
import { PolicyFiles, type RestoredPolicy } from './files.js';
import {
  PolicyOutcomeStatus as S, RPC_KIND,
  type GrpcPolicyRecord, type PolicyIdentity, type PolicyOutcome, type PolicyRpc, type PolicyValidator, type Problem,
} from './types.js';

export interface GrpcPolicySourceOptions {
  stateDir: string;
  validate: PolicyValidator;
  /** Which RPCs accept policies; default container and host on, network off (not enforceable on Windows). */
  enabled?: Partial<Record<PolicyRpc, boolean>>;
  /** Alternatively, the accepted kinds (config sources.grpc.kinds); an RPC is enabled when its kind is listed. */
  kinds?: readonly string[];
  logger?: Logger;
  /** Source name reported to the store (default `grpc`). */
  name?: string;
}

const DEFAULT_ENABLED: Record<PolicyRpc, boolean> = { containerPolicy: true, hostPolicy: true, networkPolicy: false };

function outcome(status: S, message: string, problems: Problem[] = [], identity?: PolicyIdentity): PolicyOutcome {
  return identity ? { status, message, problems, identity } : { status, message, problems };
}

function invalid(identity: PolicyIdentity, errors: Problem[], all: Problem[]): PolicyOutcome {
  const more = errors.length > 1 ? ` (and ${errors.length - 1} more)` : '';
  return outcome(S.Invalid, `${label(identity)} is invalid: ${errors[0]!.message}${more}`, all, identity);
}

function label(identity: PolicyIdentity): string {
  return `${identity.kind}/${identity.namespace ? `${identity.namespace}/` : ''}${identity.name}`;
}

/** Meaning, not bytes: karmor's re-encoding of a file (empty sections, zero values) is the same policy. */
const meaningOf = (digest: string | undefined, object: unknown): string => digest ?? canonicalJson(object);

export class GrpcPolicySource implements PolicySource {
  readonly name: string;
  private sink: SourceSink | undefined;
  private readonly records = new Map<string, GrpcPolicyRecord>();
  private readonly files: PolicyFiles;
  private tail: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: GrpcPolicySourceOptions) {
    this.name = options.name ?? 'grpc';
    this.files = new PolicyFiles(options.stateDir);
  }

  async start(sink: SourceSink): Promise<void> {
    const { policies, corrupt } = await this.files.restore();
    for (const c of corrupt) {
      this.options.logger?.error('gRPC-applied policy file unreadable: moved aside, not restored', { file: c.file, error: c.error });
    }
    for (const stored of policies) {
      const verified = this.verifyRestored(stored);
      if (!verified) continue;
      const { identity, text } = verified;
      const location = `gRPC ${stored.rpc} ${identity.name}`;
      // Validated (the store reuses this verdict) for the digest of its meaning.
      const { digest } = this.options.validate(text, location);
      this.records.set(stored.origin, { origin: stored.origin, identity, rpc: stored.rpc, text, meaning: meaningOf(digest, stored.policy) });
      sink.upsert(this.name, { origin: stored.origin, text, location });
    }
    this.sink = sink;
    this.reportSynced();
    this.options.logger?.info('gRPC policy source restored', { policies: this.records.size, dir: this.files.dir });
  }

  /**
   * The identity of a persisted policy, or undefined (logged) when the file cannot be
   * trusted: its content names another policy than its envelope, or it sits under another
   * file name than its origin's. Either would let one file override another policy.
   */
  private verifyRestored(stored: RestoredPolicy): { identity: PolicyIdentity; text: string } | undefined {
    const refuse = (error: string): undefined => {
      this.options.logger?.error('gRPC-applied policy file refused: not restored', { file: stored.file, origin: stored.origin, error });
      return undefined;
    };
    let identity: PolicyIdentity;
    try {
      identity = objectIdentity(stored.policy, stored.rpc);
    } catch (error) {
      return refuse(`the policy has no valid identity: ${(error as Error).message}`);
    }
    if (originOf(identity) !== stored.origin) return refuse(`its origin ${stored.origin} does not match the policy it holds (${originOf(identity)})`);
    if (!stored.nameMatches) return refuse(`the file name does not match its origin ${stored.origin} (expected ${this.files.fileName(stored.origin)})`);
    return { identity, text: JSON.stringify(stored.policy, null, 2) };
  }

  async stop(): Promise<void> {
    await this.tail;
    this.sink = undefined;
  }

  isEnabled(rpc: PolicyRpc): boolean {
    if (this.options.kinds) return this.options.kinds.includes(RPC_KIND[rpc]);
    return this.options.enabled?.[rpc] ?? DEFAULT_ENABLED[rpc];
  }

  /** Handles one PolicyService request (bytes of the `policy` field). */
  apply(rpc: PolicyRpc, bytes: Uint8Array): Promise<PolicyOutcome> {
    return this.serialized(() => this.applyNow(rpc, bytes));
  }

  /** Deletes a gRPC-applied policy (admin DeletePolicy, `kawin policy delete`). */
  delete(identity: PolicyIdentity): Promise<PolicyOutcome> {
    return this.serialized(() => this.deleteNow(identity));
  }

  /** Capability for the admin service: delete by identity. */
  async deletePolicy(identity: PolicyIdentity): Promise<{ deleted: boolean; message: string }> {
    const result = await this.delete(identity);
    return { deleted: result.status === S.Deleted, message: result.message };
  }

  /** Capability: the policy JSON held for `origin`. */
  readDocument(origin: string): Promise<string | undefined> {
    return Promise.resolve(this.records.get(origin)?.text);
  }

  /** Capability: policy.PolicyService, served by the agent's gRPC server. */
  grpcServices(peers: PeerPolicy): GrpcServiceBinding[] {
    return [policyServiceBinding(this, peers, this.options.logger)];
  }

  list(): GrpcPolicyRecord[] {
    return [...this.records.values()];
  }

  get(identity: PolicyIdentity): GrpcPolicyRecord | undefined {
    return this.find(identity);
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.tail.then(work, work);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private async applyNow(rpc: PolicyRpc, bytes: Uint8Array): Promise<PolicyOutcome> {
    if (!this.isEnabled(rpc)) return outcome(S.NotEnabled, `${RPC_KIND[rpc]} policies are not enabled on this agent`);
    if (!this.sink) return outcome(S.Failure, 'the gRPC policy source is not running');
    let event: PolicyEvent;
    try {
      event = parsePolicyEvent(bytes, rpc);
    } catch (error) {
      if (!(error instanceof PolicyEventError)) throw error;
      return outcome(S.Invalid, error.message, [{ severity: 'error', location: `gRPC ${rpc}`, message: error.message }]);
    }
    if (event.type === 'DELETED') return this.deleteNow(event.identity);
    return this.upsert(rpc, event, this.sink);
  }

  private async upsert(rpc: PolicyRpc, event: PolicyEvent, sink: SourceSink): Promise<PolicyOutcome> {
    const text = JSON.stringify(event.object, null, 2);
    const location = `gRPC ${rpc} ${event.identity.name}`;
    const verdict = this.options.validate(text, location);
    const errors = verdict.errors.filter((p) => p.severity !== 'warning');
    const warnings = verdict.errors.filter((p) => p.severity === 'warning');
    const identity = verdict.identity ?? event.identity;
    if (errors.length > 0) return invalid(identity, errors, verdict.errors);
    const origin = originOf(identity);
    const meaning = meaningOf(verdict.digest, event.object);
    const existing = this.records.get(origin);
    if (existing?.meaning === meaning) return outcome(S.Applied, `${label(identity)} unchanged`, warnings, identity);
    if (!existing && event.type === 'MODIFIED') return outcome(S.NotExist, `${label(identity)} does not exist`, [], identity);
    try {
      await this.files.write({ origin, rpc, policy: event.object });
    } catch (error) {
      this.options.logger?.error('cannot persist gRPC-applied policy: not applied', { origin, error: (error as Error).message });
      return outcome(S.Failure, `cannot persist ${label(identity)}: ${(error as Error).message}`, [], identity);
    }
    this.records.set(origin, { origin, identity, rpc, text, meaning });
    sink.upsert(this.name, { origin, text, location });
    this.reportSynced();
    const status = existing ? S.Modified : S.Applied;
    this.options.logger?.info('gRPC policy accepted', { origin, status: S[status] });
    return outcome(status, `${label(identity)} ${existing ? 'modified' : 'applied'}`, warnings, identity);
  }

  private async deleteNow(identity: PolicyIdentity): Promise<PolicyOutcome> {
    if (!this.sink) return outcome(S.Failure, 'the gRPC policy source is not running');
    const record = this.find(identity);
    if (!record) return outcome(S.NotExist, `${label(identity)} does not exist (among gRPC-applied policies)`, [], identity);
    try {
      await this.files.remove(record.origin);
    } catch (error) {
      return outcome(S.Failure, `cannot delete ${label(identity)}: ${(error as Error).message}`, [], record.identity);
    }
    this.records.delete(record.origin);
    this.sink.remove(this.name, record.origin);
    this.reportSynced();
    this.options.logger?.info('gRPC policy deleted', { origin: record.origin });
    return outcome(S.Deleted, `${label(record.identity)} deleted`, [], record.identity);
  }

  /** Exact identity, or kind+name when the request named no namespace and one policy matches. */
  private find(identity: PolicyIdentity): GrpcPolicyRecord | undefined {
    const exact = this.records.get(originOf(identity));
    if (exact || identity.namespace) return exact;
    const matches = this.list().filter((r) => r.identity.kind === identity.kind && r.identity.name === identity.name);
    return matches.length === 1 ? matches[0] : undefined;
  }

  private reportSynced(): void {
    const hash = createHash('sha256');
    for (const origin of [...this.records.keys()].sort()) hash.update(`${origin}\0${this.records.get(origin)!.meaning}\0`);
    this.sink?.synced(this.name, hash.digest('hex').slice(0, 16));
  }
}
