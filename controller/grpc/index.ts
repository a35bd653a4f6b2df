/**
 * kawin's gRPC server: the KubeArmor-compatible services (feeder.LogService,
 * policy.PolicyService, state_agent.StateAgent), kawin's admin service, health and
 * reflection on one @grpc/grpc-js server. Build the bindings, hand them to
 * KawinGrpcServer, start it.
 */
export { KawinGrpcServer, peerPolicyFor, DEFAULT_GRPC_ADDRESS, DEFAULT_MAX_MESSAGE_BYTES, DEFAULT_SHUTDOWN_GRACE_MS } from './server.js';
export type { GrpcServerOptions } from './server.js';
export type { GrpcTlsOptions } from './tls.js';
export { GrpcTlsConfigError } from './tls.js';
export type { GrpcServiceBinding } from './binding.js';
export { checkPolicyPeer, isLoopbackPeer, refusalReason } from './peer.js';
export type { PeerPolicy } from './peer.js';
export { LogBroker, logServiceBinding, registerLogMetrics, rfc3339Micro, LOG_STREAMS } from './logs/index.js';
export type { LogBrokerOptions, LogStream, NoticeContext } from './logs/index.js';

export { probeServiceBinding, probeResponse } from './probe.js';
export type { ProbeProvider, ProbePolicy } from './probe.js';
export { stateAgentBinding, toStateEvent, STATE_KIND, STATE_TYPE } from './state.js';
export type { AgentStateEvent, StateProvider, StateAgentOptions, SubscriberSlots } from './state.js';
export { adminServiceBinding, toDiagnostic, toProtoKind, fromProtoKind } from './admin.js';
export type { AdminBackend } from './admin.js';
export { RequestGate, registerGateMetrics } from './gate.js';
