/** A 1-based line and column. */
export interface TextPosition {
  line: number;
  column: number;
}

/** Offsets → line and column, by binary search over the line starts (built on first use). */
export class LineIndex {
  private starts: number[] | undefined;
  constructor(private readonly text: string) {}

  /** A negative offset (nothing to point at) is line 0, column 0. */
  position(offset: number): TextPosition {
    if (offset < 0) return { line: 0, column: 0 };
    // The start of a text (its first document's line): no need to find every line start.
    if (offset === 0) return { line: 1, column: 1 };
    const starts = this.lineStarts();
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: offset - starts[lo]! + 1 };
  }

  private lineStarts(): number[] {
    if (this.starts) return this.starts;
    const starts = [0];
    for (let i = this.text.indexOf('\n'); i !== -1; i = this.text.indexOf('\n', i + 1)) starts.push(i + 1);
    return (this.starts = starts);
  }
}
