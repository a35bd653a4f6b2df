/**
 * Reading policy files for the CLI: `-f` takes files or directories (their .yaml,
 * .yml and .json files, sorted, not recursive), each a YAML stream of one or more
 * documents. Empty documents are skipped; a syntax error names the file and line.
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { loadAll } from 'js-yaml';

export interface PolicyFile {
  path: string;
  text: string;
}

export interface PolicyDocumentEntry {
  /** `file.yaml` or `file.yaml#2` for the second document. */
  location: string;
  object: Record<string, unknown>;
  kind: string;
  name: string;
  namespace?: string;
}

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export async function readPolicyFiles(paths: string[]): Promise<PolicyFile[]> {
  const files: PolicyFile[] = [];
  for (const path of paths) {
    const info = await stat(path).catch((cause: Error) => { throw new Error(`cannot read ${path}: ${cause.message}`, { cause }); });
    const names = info.isDirectory()
      ? (await readdir(path)).filter((n) => EXTENSIONS.has(extname(n).toLowerCase())).sort().map((n) => join(path, n))
      : [path];
    for (const name of names) files.push({ path: name, text: await readFile(name, 'utf8') });
  }
  return files;
}

/** Splits a file into documents; throws with file and line on a syntax error. */
export function splitDocuments(file: PolicyFile): PolicyDocumentEntry[] {
  let docs: unknown[];
  try {
    docs = loadAll(file.text);
  } catch (cause) {
    const mark = (cause as { mark?: { line: number; column: number } }).mark;
    const where = mark ? `${file.path}:${mark.line + 1}:${mark.column + 1}` : file.path;
    throw new Error(`${where}: ${(cause as { reason?: string }).reason ?? (cause as Error).message}`, { cause });
  }
  const out: PolicyDocumentEntry[] = [];
  docs.forEach((doc, i) => {
    if (doc === null || doc === undefined) return;
    const location = docs.length > 1 ? `${file.path}#${i + 1}` : file.path;
    const object = (typeof doc === 'object' && !Array.isArray(doc) ? doc : {}) as Record<string, unknown>;
    const metadata = (object.metadata ?? {}) as { name?: unknown; namespace?: unknown };
    out.push({
      location, object,
      kind: typeof object.kind === 'string' ? object.kind : '',
      name: typeof metadata.name === 'string' ? metadata.name : '',
      ...(typeof metadata.namespace === 'string' ? { namespace: metadata.namespace } : {}),
    });
  });
  return out;
}
