/**
 * Reading the config: parse (with positions), apply command-line overrides, validate
 * against config.schema.json (defaults filled in), check cross-field rules, resolve.
 * Any problem → ConfigValidationError listing all of them with file, line and field.
 */
import { constants } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { schemaProblems, type PointedProblem } from './ajv-problems.js';
import { semanticProblems } from './checks.js';
import { ConfigValidationError, type ConfigProblem } from './errors.js';
import { JsonSyntaxError, parseLocated, type LocatedJson } from './json-locate.js';
import { applyOverrides, flagFor } from './overrides.js';
import { platformDefaults } from './platform.js';
import { resolveConfig } from './resolve.js';
import type { AgentConfig, ConfigOverrides } from './types.js';

export interface ParseOptions {
  /** Where the text came from (errors point here; relative paths resolve against its directory). */
  file?: string;
  overrides?: ConfigOverrides;
  /** Defaults of this platform (default: the running one). */
  platform?: NodeJS.Platform;
  /** Default hostName (default os.hostname()). */
  hostName?: string;
}

/** `/sources/files/paths/1` → `sources.files.paths[1]` */
export function pointerToPath(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, t) => (/^\d+$/.test(t) ? `${acc}[${t}]` : acc ? `${acc}.${t}` : t), '');
}

function locateProblems(problems: PointedProblem[], located: LocatedJson, file: string, flags: Map<string, string>): ConfigProblem[] {
  return problems.map((p) => {
    const flag = flagFor(flags, p.pointer);
    if (flag) return { file: 'command line', path: `${flag} (${pointerToPath(p.pointer)})`, message: p.message };
    return { file, ...located.locate(p.pointer, p.atKey), path: pointerToPath(p.pointer), message: p.message };
  });
}

function parseText(text: string, file: string): LocatedJson {
  try {
    return parseLocated(text);
  } catch (error) {
    if (!(error instanceof JsonSyntaxError)) throw error;
    throw new ConfigValidationError(file, [{ file, ...error.position, path: '', message: error.message }], { cause: error });
  }
}

/** Parse and validate config text; throws ConfigValidationError with every problem. */
export function parseConfig(text: string, options: ParseOptions = {}): AgentConfig {
  const file = options.file ?? '<config>';
  const located = parseText(text, file);
  const raw = located.value;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigValidationError(file, [{ file, line: 1, column: 1, path: '', message: 'the config must be a JSON object ({ … })' }]);
  }
  const flags = applyOverrides(raw as Record<string, unknown>, options.overrides ?? {});
  const pointed = [
    ...located.duplicates.map((pointer) => ({ pointer, atKey: true, message: 'appears twice in the same object' })),
    ...schemaProblems(raw),
    ...semanticProblems(raw),
  ];
  const problems = locateProblems(pointed, located, file, flags).sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0));
  if (problems.length) throw new ConfigValidationError(file, problems);
  const platform = platformDefaults(options.platform);
  const configPath = options.file === undefined ? undefined : platform.paths.resolve(options.file);
  return resolveConfig(raw as Record<string, unknown>, {
    baseDir: configPath ? platform.paths.dirname(configPath) : process.cwd(),
    configPath,
    hostName: options.hostName ?? os.hostname(),
    platform,
  });
}

export interface LoadOptions extends Omit<ParseOptions, 'file'> {
  /** A missing file means "defaults only" (for the platform default path, not an explicit --config). */
  optional?: boolean;
}

/** Read and validate the config at `file` (default: the platform's config path). */
export async function loadConfig(file?: string, overrides: ConfigOverrides = {}, options: LoadOptions = {}): Promise<AgentConfig> {
  const target = path.resolve(file ?? platformDefaults(options.platform).configPath);
  let text: string;
  try {
    text = await readRegularFile(target);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && options.optional) return parseConfig('{}', { ...options, overrides });
    const reason = error instanceof NotRegularFileError ? error.message
      : code === 'ENOENT' ? 'the file does not exist' : `cannot read the file (${code ?? (error as Error).message})`;
    throw new ConfigValidationError(target, [{ file: target, path: '', message: reason }], { cause: error });
  }
  return parseConfig(text, { ...options, overrides, file: target });
}

class NotRegularFileError extends Error {
  override readonly name = 'NotRegularFileError';
}

function kindOf(s: { isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean }): string {
  if (s.isDirectory()) return 'a directory';
  if (s.isFIFO()) return 'a FIFO';
  if (s.isSocket()) return 'a socket';
  return s.isCharacterDevice() || s.isBlockDevice() ? 'a device' : 'not a file';
}

/**
 * The text of a regular file. A FIFO or device at the path would block the read (and the
 * start-up) forever: the path is checked first, and opened without blocking, then checked
 * again on the descriptor (it may have been swapped in between).
 */
export async function readRegularFile(file: string): Promise<string> {
  const before = await stat(file);
  if (!before.isFile()) throw new NotRegularFileError(`not a regular file (${kindOf(before)})`);
  const handle = await open(file, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  try {
    const opened = await handle.stat();
    if (!opened.isFile()) throw new NotRegularFileError(`not a regular file (${kindOf(opened)})`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
