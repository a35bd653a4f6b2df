/**
 * Server reflection (what grpcurl-style tools explore the API with), built on its first
 * call. Building it loads kawin's protos and decodes every file descriptor: about 100 ms
 * of the main thread and several MB, paid at every start before the first apply, for a
 * service that only people exploring the API ever call.
 *
 * The service definitions are taken from a reflection service over an empty package
 * (cheap); their handlers build the real one on first use and hand each call to it.
 */
import type { Server, ServiceDefinition, UntypedHandleCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';

type Registrar = Pick<Server, 'addService'>;
type PackageDefinition = ConstructorParameters<typeof ReflectionService>[0];

/** The services a reflection service adds, and their handlers, without a server. */
function servicesOf(reflection: ReflectionService): { definition: ServiceDefinition; implementation: UntypedServiceImplementation }[] {
  const services: { definition: ServiceDefinition; implementation: UntypedServiceImplementation }[] = [];
  const registrar: Registrar = { addService: (definition, implementation) => { services.push({ definition, implementation }); } };
  reflection.addToServer(registrar as Server);
  return services;
}

/** Adds server reflection of the package `load()` returns; `load` runs on the first reflection call. */
export function addLazyReflection(server: Registrar, load: () => PackageDefinition): void {
  let real: UntypedServiceImplementation[] | undefined;
  const shells = servicesOf(new ReflectionService({}));
  shells.forEach(({ definition, implementation }, s) => {
    const lazy: UntypedServiceImplementation = {};
    for (const method of Object.keys(implementation)) {
      lazy[method] = ((call: unknown, callback: unknown) => {
        real ??= servicesOf(new ReflectionService(load())).map((x) => x.implementation);
        const handler = real[s]![method] as (call: unknown, callback: unknown) => void;
        handler(call, callback);
      }) as UntypedHandleCall;
    }
    server.addService(definition, lazy);
  });
}
