/**
 * Server reflection (grpc.reflection.v1 and v1alpha: what grpcurl-style tools explore the
 * API with), set up on its first call. The service definitions are kawin's generated code
 * (proto/reflection_*.proto); @grpc/reflection answers the requests, but it, proto-loader
 * and the descriptors of kawin's protos are loaded only when someone asks. Loaded at
 * start-up they cost the agent about 200 ms of its main thread (protobufjs parsing and
 * resolving descriptors) and several MB, for a service only people exploring the API call.
 */
import { status as grpcStatus, type Server, type ServerDuplexStream } from '@grpc/grpc-js';
import type { ReflectionService } from '@grpc/reflection';
import { ServerReflectionService as V1, type ServerReflectionRequest, type ServerReflectionResponse } from '../../proto/gen/reflection_v1.js';
import { ServerReflectionService as V1Alpha } from '../../proto/gen/reflection_v1alpha.js';

type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/** The request as @grpc/reflection reads it: proto-loader's virtual oneof field names which one is set. */
type LoaderRequest = ServerReflectionRequest & { messageRequest?: string };
type Answer = (request: LoaderRequest) => ServerReflectionResponse;

const REQUESTS = ['fileByFilename', 'fileContainingSymbol', 'fileContainingExtension', 'allExtensionNumbersOfType', 'listServices'] as const;

/** `request` with the name of its set oneof member, as proto-loader (`oneofs: true`) gives it. */
function loaderRequest(request: ServerReflectionRequest): LoaderRequest {
  return { ...request, messageRequest: REQUESTS.find((k) => request[k] !== undefined) };
}

/**
 * A CommonJS package's exports from a dynamic import: its `default` (what both Node and
 * the compiled bundle give), else the namespace (named exports Node may detect).
 */
export function commonJs<T extends object>(namespace: T & { default?: T }): T {
  return namespace.default ?? namespace;
}

/** Adds server reflection of the package `load()` gives; `load` runs on the first reflection call. */
export function addLazyReflection(server: Pick<Server, 'addService'>, load: () => Promise<PackageDefinition>): void {
  let answer: Promise<Answer> | undefined;
  const answerer = (): Promise<Answer> => (answer ??= (async () => {
    const { ReflectionService: Reflection } = commonJs(await import('@grpc/reflection'));
    // Its v1 implementation answers v1alpha too (the two specs are identical).
    const implementation = (new Reflection(await load()) as unknown as { v1: { handleServerReflectionRequest: Answer } }).v1;
    return (request) => implementation.handleServerReflectionRequest(request);
  })());
  const info = (call: ServerDuplexStream<ServerReflectionRequest, ServerReflectionResponse>): void => {
    // Answers in the order asked, the first one once reflection is loaded.
    let pending: Promise<void> = Promise.resolve();
    call.on('data', (request: ServerReflectionRequest) => {
      pending = pending.then(async () => {
        let response: ServerReflectionResponse;
        try {
          response = (await answerer())(loaderRequest(request));
        } catch (error) {
          // Reflection could not be loaded: each request is answered with the error, as the protocol allows.
          response = { validHost: request.host, originalRequest: request, errorResponse: { errorCode: grpcStatus.INTERNAL, errorMessage: `server reflection unavailable: ${(error as Error).message}` } };
        }
        call.write(response);
      });
    });
    call.on('end', () => { void pending.then(() => call.end()); });
  };
  server.addService(V1, { serverReflectionInfo: info });
  server.addService(V1Alpha, { serverReflectionInfo: info });
}
