/** Dot paths of the leaves that differ between two configs (`logging.level`, `postures.file`), so callers apply only what changed. */
export function changedFields(a: unknown, b: unknown, prefix = ''): string[] {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObject(a) || !isObject(b)) return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  return keys.flatMap((k) => changedFields(a[k], b[k], prefix ? `${prefix}.${k}` : k));
}
