/**
 * One record as one JSON line with upstream's field names (`Timestamp`, `UpdatedTime`,
 * `HostName`, …), in proto field order, leaving out empty and zero fields as upstream's
 * JSON logs do (`omitempty`). Timestamp stays a number (Unix seconds).
 */

type Value = string | number | boolean | string[] | object | undefined | null;

function isEmpty(v: Value): boolean {
  if (v === '' || v === 0 || v === undefined || v === null || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === 'object') {
    for (const _ in v) return false;
    return true;
  }
  return false;
}

/** `record` serialized without its empty fields, followed by a newline. */
export function jsonLine(record: object): string {
  let out = '{';
  for (const key in record) {
    const v = (record as Record<string, Value>)[key];
    if (isEmpty(v)) continue;
    if (out.length > 1) out += ',';
    out += `"${key}":${typeof v === 'string' ? JSON.stringify(v) : typeof v === 'number' ? String(v) : JSON.stringify(v)}`;
  }
  return `${out}}\n`;
}
