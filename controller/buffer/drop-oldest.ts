/**
 * The one bounded queue that never makes its producer wait: when a push would exceed
 * a limit, the OLDEST items go, and every loss is counted. Items carry a weight (what
 * the limit counts: events in a batch, messages in a chunk; 1 by default) and a size in
 * bytes (for byte limits). The oldest item is evicted whole, or, when the queue knows how
 * to cut one (`trim`: a batch of events, a chunk of messages), only as much of it as
 * makes room, so a limit holds exactly. Items have sequence numbers, so a
 * reader that keeps its own position (the gRPC fan-out's SharedLog) can tell exactly
 * what fell out while it waited: `firstWeight`/`endWeight` count weight the same way.
 *
 * Each use names its limit after its config key, so a RangeError or a drop points at it.
 */

export interface QueueLimits {
  /** Most weight held (config: the key in `name`); default: bounded by bytes only. */
  weight?: number;
  /** Most bytes held; default: no byte bound. */
  bytes?: number;
}

/** Bytes held by several queues together (read by a gauge). */
export interface ByteAccount {
  bytes: number;
}

const INITIAL_SLOTS = 16;

/** Cuts the `drop` oldest units of weight off an item (0 < drop < its weight): the rest, and its bytes. */
export type Trim<T> = (item: T, drop: number) => { item: T; bytes: number };

export interface QueueOptions<T> {
  account?: ByteAccount;
  trim?: Trim<T>;
}

export class DropOldestQueue<T> {
  private items: (T | undefined)[];
  private weights: number[];
  private sizes: number[];
  /** Sequence number of the oldest item held; `end` is the next one pushed. */
  private firstSeq = 0;
  private endSeq = 0;
  private heldWeight = 0;
  private heldBytes = 0;
  private readonly maxBytes: number;
  private readonly maxWeight: number;
  /** Weight evicted before the oldest item held, and pushed in all: positions in weight. */
  private weightBefore = 0;
  /** Weight dropped because a limit was reached (not by clear()), in total. */
  dropped = 0;

  private readonly account: ByteAccount | undefined;
  private readonly trim: Trim<T> | undefined;

  constructor(readonly name: string, limits: QueueLimits, options: QueueOptions<T> = {}) {
    this.account = options.account;
    this.trim = options.trim;
    this.maxWeight = limits.weight ?? Infinity;
    this.maxBytes = limits.bytes ?? Infinity;
    if (limits.weight !== undefined && (!Number.isInteger(limits.weight) || limits.weight < 1)) {
      throw new RangeError(`${name} must be a positive integer, got ${limits.weight}`);
    }
    if (!(this.maxBytes > 0)) throw new RangeError(`${name}: the byte bound must be positive, got ${limits.bytes}`);
    if (this.maxWeight === Infinity && this.maxBytes === Infinity) throw new RangeError(`${name}: a queue needs a bound`);
    const slots = Math.min(INITIAL_SLOTS, this.maxWeight);
    this.items = new Array<T | undefined>(slots);
    this.weights = new Array<number>(slots).fill(0);
    this.sizes = new Array<number>(slots).fill(0);
  }

  get capacity(): number { return this.maxWeight; }
  /** Slots allocated: they grow with use (up to the weight limit), not with the limit. */
  get allocated(): number { return this.items.length; }
  /** Items held. */
  get length(): number { return this.endSeq - this.firstSeq; }
  /** Weight held (what `limits.weight` bounds). */
  get weight(): number { return this.heldWeight; }
  get bytes(): number { return this.heldBytes; }
  get first(): number { return this.firstSeq; }
  get end(): number { return this.endSeq; }
  /** Weight position of the oldest item held (all weight ever evicted or shifted before it). */
  get firstWeight(): number { return this.weightBefore; }
  /** Weight position after the newest item (all weight ever pushed). */
  get endWeight(): number { return this.weightBefore + this.heldWeight; }

  /**
   * Appends `item`; drops the oldest while a limit would be exceeded (the new item itself
   * is always kept). Returns the weight dropped to make room.
   */
  push(item: T, weight = 1, bytes = 0): number {
    let dropped = 0;
    while (this.length > 0) {
      const overWeight = this.heldWeight + weight - this.maxWeight;
      const overBytes = this.heldBytes + bytes - this.maxBytes;
      if (overWeight <= 0 && overBytes <= 0) break;
      dropped += this.dropOldest(Math.max(overWeight, this.unitsFor(overBytes)));
    }
    this.dropped += dropped;
    if (this.length === this.items.length) this.grow();
    const i = this.endSeq % this.items.length;
    this.items[i] = item;
    this.weights[i] = weight;
    this.sizes[i] = bytes;
    this.endSeq++;
    this.heldWeight += weight;
    this.addBytes(bytes);
    return dropped;
  }

  /** The oldest item, taken out (not counted as a drop). */
  shift(): T | undefined {
    if (this.length === 0) return undefined;
    return this.removeOldest();
  }

  /** The item with sequence number `seq` (first ≤ seq < end). */
  at(seq: number): T {
    if (seq < this.firstSeq || seq >= this.endSeq) throw new RangeError(`${this.name}: item ${seq} is not held (${this.firstSeq}..${this.endSeq})`);
    return this.items[seq % this.items.length]!;
  }

  /** Weight of item `seq` (first ≤ seq < end). */
  weightAt(seq: number): number {
    this.at(seq);
    return this.weights[seq % this.items.length]!;
  }

  /** Every item held, oldest first, taken out. */
  drain(): T[] {
    const out: T[] = [];
    while (this.length > 0) out.push(this.removeOldest());
    return out;
  }

  /** Forgets everything held (sequence numbers go on); returns the weight discarded. */
  clear(): number {
    const weight = this.heldWeight;
    while (this.length > 0) this.removeOldest();
    return weight;
  }

  /** Units of the oldest item's weight that hold about `bytes` bytes (at least 1 when bytes > 0). */
  private unitsFor(bytes: number): number {
    if (bytes <= 0) return 0;
    const i = this.firstSeq % this.items.length;
    const perUnit = this.sizes[i]! / Math.max(1, this.weights[i]!);
    return perUnit > 0 ? Math.max(1, Math.ceil(bytes / perUnit)) : 1;
  }

  /** Drops `want` weight from the oldest item (cut, if it can be and is heavier), or the whole item. */
  private dropOldest(want: number): number {
    const i = this.firstSeq % this.items.length;
    const weight = this.weights[i]!;
    if (this.trim === undefined || weight <= want) {
      this.removeOldest();
      return weight;
    }
    const rest = this.trim(this.items[i]!, want);
    this.items[i] = rest.item;
    this.weights[i] = weight - want;
    this.heldWeight -= want;
    this.weightBefore += want;
    this.addBytes(rest.bytes - this.sizes[i]!);
    this.sizes[i] = rest.bytes;
    return want;
  }

  private removeOldest(): T {
    const i = this.firstSeq % this.items.length;
    const item = this.items[i]!;
    this.items[i] = undefined;
    this.firstSeq++;
    this.heldWeight -= this.weights[i]!;
    this.weightBefore += this.weights[i]!;
    this.addBytes(-this.sizes[i]!);
    return item;
  }

  private addBytes(delta: number): void {
    this.heldBytes += delta;
    if (this.account) this.account.bytes += delta;
  }

  /** Twice the slots (at most the weight limit); every held sequence number maps to a distinct slot. */
  private grow(): void {
    const slots = Math.min(this.items.length * 2, Math.max(this.maxWeight, this.items.length + 1));
    const items = new Array<T | undefined>(slots);
    const weights = new Array<number>(slots).fill(0);
    const sizes = new Array<number>(slots).fill(0);
    for (let s = this.firstSeq; s < this.endSeq; s++) {
      const from = s % this.items.length;
      items[s % slots] = this.items[from];
      weights[s % slots] = this.weights[from]!;
      sizes[s % slots] = this.sizes[from]!;
    }
    this.items = items;
    this.weights = weights;
    this.sizes = sizes;
  }
}
