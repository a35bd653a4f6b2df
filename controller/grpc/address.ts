/** Where kawin's gRPC server listens unless configured: shared by the server and the CLI's client, which must not load the server. */
export const DEFAULT_GRPC_ADDRESS = '127.0.0.1:32767';
