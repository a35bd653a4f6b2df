/**
 * grpc.health.v1.Health: what grpc_health_probe, Kubernetes' gRPC probes and load
 * balancers ask. Check answers a service's status (NOT_FOUND for a name never set),
 * Watch streams it (SERVICE_UNKNOWN until set) and every change after, List gives all.
 * On kawin's generated code (proto/health.proto): the grpc-health-check package loaded
 * protobufjs and its descriptor extension at start-up, about 90 ms and 7 MB for three
 * small messages.
 */
import { status as grpcStatus, type Server, type ServerUnaryCall, type ServerWritableStream, type sendUnaryData } from '@grpc/grpc-js';
import {
  HealthCheckResponse_ServingStatus as Serving, HealthService,
  type HealthCheckRequest, type HealthCheckResponse, type HealthListRequest, type HealthListResponse,
} from '../../proto/gen/health.js';

export type ServingStatus = 'SERVING' | 'NOT_SERVING';

type Watcher = (status: Serving) => void;

export class HealthServiceImplementation {
  private readonly statuses = new Map<string, Serving>();
  private readonly watchers = new Map<string, Set<Watcher>>();

  /** `''` is the server as a whole. */
  setStatus(service: string, status: ServingStatus): void {
    const value = status === 'SERVING' ? Serving.SERVING : Serving.NOT_SERVING;
    this.statuses.set(service, value);
    for (const watcher of this.watchers.get(service) ?? []) watcher(value);
  }

  addToServer(server: Pick<Server, 'addService'>): void {
    server.addService(HealthService, {
      check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: sendUnaryData<HealthCheckResponse>) => {
        const status = this.statuses.get(call.request.service);
        if (status === undefined) callback({ code: grpcStatus.NOT_FOUND, details: `health status unknown for service ${call.request.service}` });
        else callback(null, { status });
      },
      list: (_call: ServerUnaryCall<HealthListRequest, HealthListResponse>, callback: sendUnaryData<HealthListResponse>) => {
        callback(null, { statuses: Object.fromEntries([...this.statuses].map(([service, status]) => [service, { status }])) });
      },
      watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => this.watch(call),
    });
  }

  private watch(call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>): void {
    const service = call.request.service;
    const watcher: Watcher = (status) => { call.write({ status }); };
    let set = this.watchers.get(service);
    if (!set) this.watchers.set(service, (set = new Set()));
    set.add(watcher);
    const done = (): void => {
      set.delete(watcher);
      if (set.size === 0) this.watchers.delete(service);
    };
    call.on('cancelled', done);
    call.on('close', done);
    call.write({ status: this.statuses.get(service) ?? Serving.SERVICE_UNKNOWN });
  }
}
