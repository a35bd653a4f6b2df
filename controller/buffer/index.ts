/**
 * Bounded buffers between a producer that must never wait and a consumer that may lag
 * (the driver reader and the event builder, the event fan-out and gRPC subscribers, the
 * JSON-lines outputs and their files): one drop-oldest queue type, its limit named after
 * its config key, every loss counted.
 */
export { DropOldestQueue, type ByteAccount, type QueueLimits, type QueueOptions, type Trim } from './drop-oldest.js';
