/**
 * policy.PolicyService over the gRPC policy source. The call itself succeeds and the
 * outcome is in `status`, as upstream; kawin adds the reason in trailing metadata
 * (`kawin-message`, and `kawin-problems` as JSON) for clients that want it, and
 * refuses policy changes from non-local peers (PERMISSION_DENIED) unless mutual TLS.
 */
import { Metadata, status, type sendUnaryData, type ServerUnaryCall, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { PolicyServiceService, type policy as PolicyRequest, type response as PolicyResponse } from '../../../proto/gen/policy.js';
import { PolicyOutcomeStatus, type PolicyIntake, type PolicyOutcome, type PolicyRpc } from './types.js';
import { checkPolicyPeer, type GrpcServiceBinding, type PeerPolicy } from '../../grpc/index.js';
import type { Logger } from '../../observability/index.js';

/** Named limit: how much problem detail goes into the trailer (headers have size limits). */
export const MAX_PROBLEMS_TRAILER_BYTES = 8 * 1024;

/**
 * Named limit: the encoded `kawin-message` trailer. A reply whose headers exceed what the
 * client accepts never arrives and stalls the channel, so the message is cut to this.
 */
export const MAX_MESSAGE_TRAILER_BYTES = 2 * 1024;

export const TRAILER_MESSAGE = 'kawin-message';
export const TRAILER_PROBLEMS = 'kawin-problems';

export function outcomeTrailer(result: PolicyOutcome): Metadata {
  const md = new Metadata();
  md.set(TRAILER_MESSAGE, boundedMessage(result.message));
  const problems: unknown[] = [];
  let size = 2;
  for (const p of result.problems) {
    const json = JSON.stringify(p);
    if (size + json.length + 1 > MAX_PROBLEMS_TRAILER_BYTES) {
      problems.push({ severity: 'warning', location: '', message: `${result.problems.length - problems.length} more problems not shown (trailer limit ${MAX_PROBLEMS_TRAILER_BYTES} bytes)` });
      break;
    }
    problems.push(p);
    size += json.length + 1;
  }
  if (problems.length > 0) md.set(TRAILER_PROBLEMS, encodeURIComponent(JSON.stringify(problems)));
  return md;
}

/** The message URI-encoded, cut (on a character boundary, saying so) to fit the limit. */
function boundedMessage(message: string): string {
  const whole = encodeURIComponent(message);
  if (whole.length <= MAX_MESSAGE_TRAILER_BYTES) return whole;
  let kept = Math.min(message.length, MAX_MESSAGE_TRAILER_BYTES);
  for (;;) {
    const cut = encodeURIComponent(`${message.slice(0, kept).replace(/[\uD800-\uDBFF]$/, '')}… (cut at ${kept} of ${message.length} characters)`);
    if (cut.length <= MAX_MESSAGE_TRAILER_BYTES) return cut;
    kept = Math.floor(kept / 2);
  }
}

function handler(source: PolicyIntake, rpc: PolicyRpc, peers: PeerPolicy, logger?: Logger) {

  return (call: ServerUnaryCall<PolicyRequest, PolicyResponse>, callback: sendUnaryData<PolicyResponse>): void => {
    const refused = checkPolicyPeer(call, peers);
    if (refused) {
      logger?.warn('policy change refused', { rpc, peer: call.getPeer(), reason: refused.details });
      callback(refused);
      return;
    }
    source.apply(rpc, call.request.policy).then(
      (result) => {
        if (result.status === PolicyOutcomeStatus.Invalid) logger?.warn('invalid policy over gRPC', { rpc, peer: call.getPeer(), message: result.message });
        callback(null, { status: result.status as number }, outcomeTrailer(result));
      },
      (error: Error) => {
        logger?.error('policy RPC failed', { rpc, error: error.message });
        callback({ code: status.INTERNAL, details: `policy ${rpc} failed: ${error.message}` });
      },
    );
  };
}

export function policyServiceBinding(source: PolicyIntake, peers: PeerPolicy, logger?: Logger): GrpcServiceBinding {
  const implementation: UntypedServiceImplementation = {
    containerPolicy: handler(source, 'containerPolicy', peers, logger),
    hostPolicy: handler(source, 'hostPolicy', peers, logger),
    networkPolicy: handler(source, 'networkPolicy', peers, logger),
  };
  return { name: 'policy.PolicyService', definition: PolicyServiceService, implementation, changesPolicy: true };
}
