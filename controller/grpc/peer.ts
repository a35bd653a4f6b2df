/**
 * Who may change enforcement over gRPC: loopback peers always; any peer only when the
 * server requires client certificates (mutual TLS). Everything else is refused.
 */
import { BlockList, isIP } from 'node:net';
import { status } from '@grpc/grpc-js';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

/** What the peer check needs to know about the server. */
export interface PeerPolicy {
  /** Client certificates are required and verified by the TLS handshake. */
  mutualTls: boolean;
  /** Every listening address is a unix socket (peers then show as `unknown`). */
  unixSocketOnly: boolean;
}

/**
 * The IP address in a grpc-js peer string. grpc-js writes `${remoteAddress}:${port}`
 * (so IPv6 shows as `::1:5432`, without brackets); grpc core writes `ipv4:1.2.3.4:5` and
 * `ipv6:[::1]:5`. The port is stripped first: grpc-js always appends one for TCP.
 */
export function peerAddress(peer: string): string | undefined {
  const bare = peer.replace(/^ipv[46]:/, '');
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(bare);
  if (bracketed) return isIP(bracketed[1]!) ? bracketed[1] : undefined;
  const withPort = /^(.*):(\d{1,5})$/.exec(bare);
  if (withPort && isIP(withPort[1]!)) return withPort[1];
  return isIP(bare) ? bare : undefined;
}

export function isLoopbackPeer(peer: string): boolean {
  const address = peerAddress(peer);
  if (!address) return false;
  return loopback.check(address, isIP(address) === 6 ? 'ipv6' : 'ipv4');
}

function isUnixPeer(peer: string): boolean {
  return peer === 'unknown' || peer.startsWith('unix:');
}

/** Why a policy-changing call from `peer` is refused, or undefined when it is allowed. */
export function refusalReason(peer: string, policy: PeerPolicy): string | undefined {
  if (policy.mutualTls) return undefined;
  if (isLoopbackPeer(peer)) return undefined;
  if (policy.unixSocketOnly && isUnixPeer(peer)) return undefined;
  return `policy changes are accepted only from the local machine unless mutual TLS is configured (grpc.tls.clientCaFile); peer ${peer} refused`;
}

/** The gRPC error to answer with, or undefined when the call may proceed. */
export function checkPolicyPeer(call: { getPeer(): string }, policy: PeerPolicy): { code: status; details: string } | undefined {
  const reason = refusalReason(call.getPeer(), policy);
  return reason ? { code: status.PERMISSION_DENIED, details: reason } : undefined;
}
