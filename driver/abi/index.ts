/**
 * The driver ABI: the TypeScript mirror of kawin_abi.h (types.ts) and the codec that puts
 * it on the wire and takes it off again, validating every byte (codec.ts).
 */
export * from './types.js';
export * from './codec.js';
