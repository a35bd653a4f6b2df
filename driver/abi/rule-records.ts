/**
 * Rule records as the driver listed them, kept as bytes: checked when added (a bad record
 * fails the listing as decoding would), decoded one at a time on demand. A full read-back
 * of a large table compares each listed record with the rule the agent wants there in
 * place (ruleMatchesAt): only the records that differ become objects. Decoding all of
 * them made 100k rules with their paths for every resync, which lived long enough to be
 * promoted and cost major collections and resident memory.
 */
import { endianness } from 'node:os';
import { RULE } from './layout.js';
import { checkRuleSizeAt, decodeRuleAt, encodeRuleAt, ruleMatchesAt, ruleSize, type Cursor, type PathParts } from './rules-codec.js';
import type { DriverRule } from './types.js';
import { AbiDecodeError, dataView, textView } from './wire.js';

const LITTLE_ENDIAN = endianness() === 'LE';
/** Offset of a record's Id (u64, little-endian) within it. */
const ID = RULE.fields.Id;

export class RuleRecords {
  private readonly pages: Cursor[] = [];
  private pageOf = new Uint16Array(64);
  private offsets = new Uint32Array(64);
  private count = 0;
  /** The last record's id, as two 32-bit halves (-1: none yet). */
  private lastHigh = -1;
  private lastLow = -1;
  private sorted = true;
  private released = false;

  /** Records of `rules` (for a table built in memory). */
  static of(rules: readonly DriverRule[]): RuleRecords {
    const records = new RuleRecords();
    const bytes = new Uint8Array(rules.reduce((n, r) => n + ruleSize(r), 0));
    const view = dataView(bytes);
    let at = 0;
    for (const rule of rules) at += encodeRuleAt(view, at, rule);
    records.addPage(bytes, 0, rules.length, bytes.byteLength, 'KAWIN_RULE');
    return records;
  }

  /**
   * Appends the `count` records of `bytes` between `at` and `end` (they must end exactly
   * there). `bytes` is kept: the caller must not reuse it.
   */
  addPage(bytes: Uint8Array, at: number, count: number, end: number, structName: string): void {
    // Records start 8-aligned within the page, so their strings are at even offsets of it.
    const units = LITTLE_ENDIAN && bytes.byteOffset % 2 === 0 ? new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 1) : undefined;
    const page: Cursor = { view: dataView(bytes), text: textView(bytes), end, units };
    const index = this.pages.push(page) - 1;
    if (index > 0xffff) throw new AbiDecodeError(structName, at, 'more than 65536 pages in one listing');
    this.reserve(this.count + count);
    const view = page.view;
    for (let i = 0; i < count; i++) {
      const size = checkRuleSizeAt(page, at);
      // Ascending ids, compared as two 32-bit halves (no BigInt per record).
      const high = view.getUint32(at + ID + 4, true);
      const low = view.getUint32(at + ID, true);
      if (high < this.lastHigh || (high === this.lastHigh && low <= this.lastLow)) this.sorted = false;
      this.lastHigh = high;
      this.lastLow = low;
      this.pageOf[this.count] = index;
      this.offsets[this.count++] = at;
      at += size;
    }
    if (at !== end) throw new AbiDecodeError(structName, at, `${end - at} bytes after the last of ${count} records`);
  }

  /**
   * The records will not be read again: their pages go to `reuse` (the IOCTL thread takes
   * them back for the next listing), and any later read throws.
   */
  release(reuse: (page: Uint8Array) => void = () => {}): void {
    const pages = this.pages.splice(0);
    this.count = 0;
    this.released = true;
    for (const page of pages) reuse(new Uint8Array(page.view.buffer, page.view.byteOffset, page.view.byteLength));
  }

  get length(): number {
    if (this.released) throw new Error('rule records read after release');
    return this.count;
  }

  /** Ids strictly ascending (as LIST_RULES returns them). */
  get ascending(): boolean { return this.sorted; }

  id(i: number): bigint {
    return this.pages[this.pageOf[i]!]!.view.getBigUint64(this.offsets[i]! + RULE.fields.Id, true);
  }

  rule(i: number): DriverRule {
    return decodeRuleAt(this.pages[this.pageOf[i]!]!, this.offsets[i]!).rule;
  }

  /** Record `i` holds exactly `rule`, its paths in the driver's form by `parts` (as they are without). */
  matches(i: number, rule: DriverRule, parts?: PathParts): boolean {
    return ruleMatchesAt(this.pages[this.pageOf[i]!]!, this.offsets[i]!, rule, parts);
  }

  /** The index of the record with this id, or -1 (binary search: the records must be ascending). */
  indexOf(id: bigint): number {
    let lo = 0;
    let hi = this.count - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const at = this.id(mid);
      if (at === id) return mid;
      if (at < id) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  toArray(): DriverRule[] {
    const rules = new Array<DriverRule>(this.count);
    for (let i = 0; i < this.count; i++) rules[i] = this.rule(i);
    return rules;
  }

  private reserve(n: number): void {
    if (n <= this.offsets.length) return;
    const size = Math.max(n, this.offsets.length * 2);
    const offsets = new Uint32Array(size);
    offsets.set(this.offsets.subarray(0, this.count));
    const pageOf = new Uint16Array(size);
    pageOf.set(this.pageOf.subarray(0, this.count));
    this.offsets = offsets;
    this.pageOf = pageOf;
  }
}
