/**
 * `EventData`: what `Data` says, as a map, the way upstream's feeder fills it
 * (parseDataString: whitespace-separated `key=value` pairs, the key's first letter
 * upper-cased, so `access=READ_DATA` → `{ Access: 'READ_DATA' }`). Few distinct Data
 * texts occur, so each map is built once and shared (frozen: no sink may change it).
 */
import { BoundedMap } from '../../driver/collections/index.js';

export type EventData = { readonly [key: string]: string };

const NONE: EventData = Object.freeze({});

export function parseEventData(data: string): EventData {
  const out: Record<string, string> = {};
  for (const pair of data.split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) continue;
    out[pair[0]!.toUpperCase() + pair.slice(1, eq)] = pair.slice(eq + 1);
  }
  return Object.keys(out).length === 0 ? NONE : Object.freeze(out);
}

export class EventDataCache {
  private readonly cache = new BoundedMap<string, EventData>('events.eventDataCache', 1024);
  // Runs of events share their Data (one access mask, one kind): the last answer is kept at hand.
  private lastData = '';
  private last: EventData = NONE;

  of(data: string): EventData {
    if (data === this.lastData) return this.last;
    this.lastData = data;
    this.last = data === '' ? NONE : this.cache.getOrCompute(data, parseEventData);
    return this.last;
  }
}
