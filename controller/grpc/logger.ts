/** The logging the gRPC layer needs: winston's Logger fits (message first, then fields). */
export interface GrpcLogger {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}
