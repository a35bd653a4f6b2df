/** Turns a malformed driver answer (AbiDecodeError) into a DriverProtocolError with its cause. */
import { AbiDecodeError } from '../abi/codec.js';
import { DriverProtocolError } from './errors.js';

export function decodeOrThrow<T>(operation: string, decode: () => T): T {
  try {
    return decode();
  } catch (error) {
    if (error instanceof AbiDecodeError) {
      throw new DriverProtocolError(`malformed answer from the driver: ${error.message}`, { operation, cause: error });
    }
    throw error;
  }
}
