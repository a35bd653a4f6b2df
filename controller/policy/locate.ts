/**
 * Field path → source position for the documents of one text. The position map is
 * built only when a problem needs it; a valid policy keeps just the text, and a later
 * lookup (a compile-time problem, `Policy.locate`) re-parses the text once.
 */
import { parseEvents, type Event } from 'js-yaml';
import { buildPositionMap, type LineIndex, type NodeSpan } from './positions.js';
import { documentSlices } from './yaml.js';
import type { Position } from './types.js';

const LAST_SEGMENT = /(^|\.)[A-Za-z_][A-Za-z0-9_]*$|\[(?:\d+|"(?:[^"\\]|\\.)*")\]$/;

export class TextLocator {
  private slices: Event[][] | undefined;
  private readonly maps = new Map<number, Map<string, NodeSpan>>();

  constructor(private readonly text: string, readonly lines: LineIndex) {}

  /** Seeds a document's events when they are at hand (avoids a re-parse). */
  seed(index: number, events: readonly Event[]): void {
    if (!this.maps.has(index)) this.maps.set(index, buildPositionMap(this.text, events));
  }

  /** Position of a field (or of its nearest written ancestor) in document `index`. */
  locate(index: number, field: string, anchor: 'key' | 'value' = 'value'): Position {
    const spans = this.spans(index);
    for (let path = field; ; path = LAST_SEGMENT.test(path) ? path.replace(LAST_SEGMENT, '') : '') {
      const span = spans.get(path);
      if (span) {
        const first = anchor === 'key' ? span.key : span.value;
        return this.lines.position(first >= 0 ? first : Math.max(span.key, span.value));
      }
      if (path === '') return { line: 0, column: 0 };
    }
  }

  // The text parsed once before, so this only fails for JSON that YAML cannot read (no positions then).
  private reparse(): Event[][] {
    try {
      return documentSlices(parseEvents(this.text, {}));
    } catch {
      return [];
    }
  }

  private spans(index: number): Map<string, NodeSpan> {
    let spans = this.maps.get(index);
    if (!spans) {
      this.slices ??= this.reparse();
      spans = buildPositionMap(this.text, this.slices[index] ?? []);
      this.maps.set(index, spans);
    }
    return spans;
  }
}

