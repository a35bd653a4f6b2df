/**
 * Source positions: offsets to 1-based line/column, and a map from field paths
 * (`spec.file.matchPaths[2].path`) to where the key and the value were written, built
 * from js-yaml's parser events. Built lazily: only a document with problems needs it.
 */
import { EVENT_ID, getScalarValue, type Event } from 'js-yaml';

/** Appends one segment to a field path: `a.b`, `a[2]`, `a["kubearmor.io/hostname"]`. */
export function fieldPath(parent: string, segment: string | number): string {
  if (typeof segment === 'number') return `${parent}[${segment}]`;
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(segment)) return parent === '' ? segment : `${parent}.${segment}`;
  return `${parent}[${JSON.stringify(segment)}]`;
}

export { LineIndex } from '../text/index.js';

/** Where a node was written: the offset of its key (in a mapping) and of its value. */
export interface NodeSpan {
  key: number;
  value: number;
}

interface Frame {
  path: string;
  mapping: boolean;
  index: number;
  key: string | undefined;
  keyOffset: number;
}

/** First source offset of a node event; -1 for an empty scalar. */
export function nodeOffset(event: Event): number {
  switch (event.type) {
    case EVENT_ID.MAPPING:
    case EVENT_ID.SEQUENCE:
      return event.start;
    case EVENT_ID.SCALAR:
      return event.valueStart;
    case EVENT_ID.ALIAS:
      return event.anchorStart - 1;
    default:
      return -1;
  }
}

/** Field path → span, for one document's events. */
export function buildPositionMap(text: string, events: readonly Event[]): Map<string, NodeSpan> {
  const spans = new Map<string, NodeSpan>();
  const stack: Frame[] = [];
  for (const event of events) {
    if (event.type === EVENT_ID.DOCUMENT) continue;
    if (event.type === EVENT_ID.POP) stack.pop();
    else if (!readKey(text, event, stack)) recordValue(event, stack, spans);
  }
  return spans;
}

const isCollection = (event: Event): boolean => event.type === EVENT_ID.MAPPING || event.type === EVENT_ID.SEQUENCE;

/** A mapping waiting for a key takes this node as its key; true when it did. */
function readKey(text: string, event: Event, stack: Frame[]): boolean {
  const parent = stack[stack.length - 1];
  if (!parent?.mapping || parent.key !== undefined) return false;
  parent.key = event.type === EVENT_ID.SCALAR ? getScalarValue(text, event) : '?';
  parent.keyOffset = nodeOffset(event);
  if (isCollection(event)) stack.push(ignoredFrame());
  return true;
}

function recordValue(event: Event, stack: Frame[], spans: Map<string, NodeSpan>): void {
  const parent = stack[stack.length - 1];
  const path = parent ? childPath(parent) : '';
  const keyOffset = parent?.mapping ? parent.keyOffset : nodeOffset(event);
  spans.set(path, { key: keyOffset, value: nodeOffset(event) });
  if (parent?.mapping) parent.key = undefined;
  if (isCollection(event)) stack.push({ path, mapping: event.type === EVENT_ID.MAPPING, index: 0, key: undefined, keyOffset: -1 });
}

function childPath(parent: Frame): string {
  if (parent.mapping) return fieldPath(parent.path, parent.key ?? '?');
  return fieldPath(parent.path, parent.index++);
}

// A collection used as a mapping key: its contents have no field path of their own.
function ignoredFrame(): Frame {
  return { path: '?', mapping: false, index: 0, key: undefined, keyOffset: -1 };
}
