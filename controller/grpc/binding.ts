/** One service to host on the kawin gRPC server. */
import type { ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';

export interface GrpcServiceBinding {
  /** Fully qualified name, e.g. `feeder.LogService` (also its grpc.health.v1 name). */
  name: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  definition: ServiceDefinition<any>;
  implementation: UntypedServiceImplementation;
  /** Whether some of its RPCs change enforcement (documentation and status only). */
  changesPolicy: boolean;
  /** Run before the server shuts down: ends long-lived streams so shutdown can complete. */
  shutdown?: () => void;
}
