/**
 * LIST_RULES paging into one consistent snapshot: start with a modest buffer, grow it on
 * ERROR_MORE_DATA / ERROR_INSUFFICIENT_BUFFER, and start over when the generation changes
 * between pages (a bounded number of times: `maxRestarts`, then a conflict error).
 * A large table (the first page says how large, or the last listing did) is read on the
 * IOCTL thread: the main thread only decodes one page at a time between awaits, so a
 * full read-back never holds the event loop for long (nor waits on the device).
 */
import { RuleRecords, decodeListPageInto, decodeListResponse, encodeListRequest } from '../abi/codec.js';
import { LIST_RESPONSE } from '../abi/layout.js';
import { LIMITS, WIN32, type DriverRule } from '../abi/types.js';
import type { AdoptedOutcome, DeviceChannel } from './device.js';
import { BufferTooSmallError, DriverProtocolError, GenerationConflictError } from './errors.js';
import { decodeOrThrow } from './decode.js';
import type { RuleTable } from './types.js';

export interface ListingOptions {
  /** First output buffer size in bytes (grown on demand). */
  initialBufferBytes: number;
  /** Restarts after the table changed mid-listing before giving up. */
  maxRestarts: number;
}

export const DEFAULT_LISTING: ListingOptions = { initialBufferBytes: 256 * 1024, maxRestarts: 16 };

export interface ListingStats {
  pages: number;
  restarts: number;
  bufferGrowths: number;
}

/**
 * Reads the whole table; `stats` (if given) counts pages, restarts and buffer growths.
 * Pages go to the IOCTL thread once the table holds `offThreadFrom` rules; with
 * `expectLarge` (the last listing was that large), from the first page on.
 */
export async function listAllRules(device: DeviceChannel, options: ListingOptions, stats?: ListingStats, offThreadFrom = Infinity, expectLarge = false): Promise<RuleTable> {
  let size = Math.max(options.initialBufferBytes, LIST_RESPONSE.size);
  for (let attempt = 0; attempt <= options.maxRestarts; attempt++) {
    const result = await listOnce(device, size, stats, offThreadFrom, expectLarge);
    size = result.bufferBytes;
    if (result.table) return result.table;
    if (stats) stats.restarts++;
  }
  throw new GenerationConflictError(`the table kept changing during ${options.maxRestarts + 1} listings`, { operation: 'LIST_RULES' });
}

/** The pages after the first go to the IOCTL thread when the table holds at least `offThreadFrom` rules. */
async function listOnce(device: DeviceChannel, size: number, stats: ListingStats | undefined, offThreadFrom: number, expectLarge: boolean): Promise<{ table?: RuleTable; bufferBytes: number }> {
  let offThread = expectLarge;
  const records = new RuleRecords();
  let cursor = 0n;
  let generation: bigint | undefined;
  let output = new Uint8Array(size);
  for (;;) {
    const call = {
      op: 'LIST_RULES', input: encodeListRequest(cursor), output, readOnly: true,
      expected: [WIN32.moreData, WIN32.insufficientBuffer], adoptOutput: true,
    } as const;
    const outcome: AdoptedOutcome = offThread ? await device.ioctlOffThread(call) : await device.call(call);
    if (!outcome.ok) {
      size = grownSize(size, outcome.error === WIN32.moreData ? requiredSize(outcome.output ?? output, outcome.bytesReturned) : 0);
      output = new Uint8Array(size);
      if (stats) stats.bufferGrowths++;
      continue;
    }
    const page = pageBytes(outcome, output);
    const head = decodeOrThrow('LIST_RULES', () => decodeListPageInto(page, page.byteLength, records));
    if (stats) stats.pages++;
    if (generation !== undefined && head.generation !== generation) return { bufferBytes: size };
    generation = head.generation;
    offThread = head.totalRules >= offThreadFrom;
    if (!head.more) return { table: checkedTable(head.generation, head.totalRules, records, (page) => device.recycle(page)), bufferBytes: size };
    if (head.count === 0) throw new DriverProtocolError('a page with the MORE flag had no records', { operation: 'LIST_RULES' });
    cursor = head.nextCursor;
  }
}

/**
 * The page's bytes, kept (records are decoded on demand): a page read off the thread
 * arrives in a buffer of its own; one read here is copied out of the reused `output`.
 */
function pageBytes(outcome: AdoptedOutcome, output: Uint8Array): Uint8Array {
  return outcome.output ? outcome.output.subarray(0, outcome.bytesReturned) : output.slice(0, outcome.bytesReturned);
}

function requiredSize(output: Uint8Array, bytes: number): number {
  return decodeOrThrow('LIST_RULES', () => decodeListResponse(output, bytes)).requiredSize;
}

/** A page never needs more than one maximal rule beyond the header; past this the driver is wrong. */
const MAX_LIST_BUFFER = LIMITS.maxIoctlInput;

function grownSize(size: number, required: number): number {
  const next = Math.max(size * 2, required);
  if (next > MAX_LIST_BUFFER) {
    throw new BufferTooSmallError(`LIST_RULES asked for ${next} bytes, above ${MAX_LIST_BUFFER}`, { operation: 'LIST_RULES', win32Error: WIN32.moreData });
  }
  return next;
}

function checkedTable(generation: bigint, totalRules: number, records: RuleRecords, reuse: (page: Uint8Array) => void): RuleTable {
  if (totalRules !== records.length) {
    throw new DriverProtocolError(`listing returned ${records.length} rules, the driver reports ${totalRules}`, { operation: 'LIST_RULES' });
  }
  return tableOf(generation, records, reuse);
}

/** A rule table over `records` (its `rules` decoded on first use); `release` hands its pages to `reuse`. */
function tableOf(generation: bigint, records: RuleRecords, reuse?: (page: Uint8Array) => void): RuleTable {
  let rules: DriverRule[] | undefined;
  return {
    generation, records,
    get rules() { return (rules ??= records.toArray()); },
    release: () => records.release(reuse),
  };
}
