/**
 * A map with a named capacity for the per-event caches (the driver client's NT→DOS paths,
 * the pipeline's pid→image table and SIDs).
 * Two generations approximate LRU at O(1): new entries go to the young map; when it is
 * full it becomes the old map and the previous old map is dropped (its entries counted
 * as evictions); a hit in the old map moves the entry back to the young one, so entries
 * in use survive. Between capacity/2 and capacity entries are kept.
 */
export class BoundedMap<K, V> {
  private young = new Map<K, V>();
  private old = new Map<K, V>();
  private readonly generation: number;
  /** Entries evicted because the map was full (read and reset by the metrics flush). */
  evictions = 0;

  constructor(readonly name: string, readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 2) {
      throw new RangeError(`${name}: capacity must be an integer of at least 2, got ${capacity}`);
    }
    this.generation = Math.floor(capacity / 2);
  }

  get size(): number { return this.young.size + this.old.size; }

  get(key: K): V | undefined {
    const v = this.young.get(key);
    if (v !== undefined) return v;
    const o = this.old.get(key);
    if (o !== undefined) {
      this.old.delete(key);
      this.insert(key, o);
    }
    return o;
  }

  set(key: K, value: V): void {
    if (this.young.has(key)) this.young.set(key, value);
    else {
      this.old.delete(key);
      this.insert(key, value);
    }
  }

  /** The cached value, or `compute(key)` remembered (the memoizing caches' one pattern). */
  getOrCompute(key: K, compute: (key: K) => V): V {
    let v = this.get(key);
    if (v === undefined) {
      v = compute(key);
      this.set(key, v);
    }
    return v;
  }

  /** Forgets every entry (not counted as evictions). */
  clear(): void {
    this.young = new Map();
    this.old = new Map();
  }

  delete(key: K): void {
    this.young.delete(key);
    this.old.delete(key);
  }

  private insert(key: K, value: V): void {
    if (this.young.size >= this.generation) {
      this.evictions += this.old.size;
      this.old = this.young;
      this.young = new Map();
    }
    this.young.set(key, value);
  }
}
