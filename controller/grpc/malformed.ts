/**
 * Malformed protobuf requests get INVALID_ARGUMENT with the decoder's reason (grpc-js
 * would answer a bare INTERNAL). Every hosted service is wrapped here, in one place:
 * decoding failures become a marker value the wrapped handler answers for.
 */
import { status, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import type { GrpcServiceBinding } from './binding.js';

export class MalformedRequest {
  constructor(readonly reason: string) {}
}

type Handler = (call: { request?: unknown; emit(event: 'error', e: unknown): unknown }, callback?: (e: unknown) => void) => void;

function answer(call: Parameters<Handler>[0], callback: ((e: unknown) => void) | undefined, path: string): boolean {
  if (!(call.request instanceof MalformedRequest)) return false;
  const error = { code: status.INVALID_ARGUMENT, details: `malformed protobuf request for ${path}: ${call.request.reason}` };
  if (callback) callback(error);
  else call.emit('error', error);
  return true;
}

export function tolerateMalformed(binding: GrpcServiceBinding): GrpcServiceBinding {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const definition: Record<string, ServiceDefinition<any>[string]> = {};
  const implementation: UntypedServiceImplementation = {};
  for (const [method, def] of Object.entries(binding.definition)) {
    const decode = def.requestDeserialize;
    definition[method] = {
      ...def,
      requestDeserialize: (bytes: Buffer): unknown => {
        try {
          return decode(bytes);
        } catch (error) {
          return new MalformedRequest((error as Error).message);
        }
      },
    };
    const original = binding.implementation[method] as unknown as Handler | undefined;
    if (!original) continue;
    const wrapped: Handler = (call, callback) => {
      if (!answer(call, callback, def.path)) original(call, callback);
    };
    implementation[method] = wrapped as unknown as UntypedServiceImplementation[string];
  }
  return { ...binding, definition, implementation };
}
