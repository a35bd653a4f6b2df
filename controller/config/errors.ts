/** One thing wrong with a config: where (file and position, or the flag) and what. */
export interface ConfigProblem {
  /** The config file, or `command line` for a flag. */
  file: string;
  line?: number;
  column?: number;
  /** Field path such as `driver.emulator.ringCapacity` or `sources.files.paths[1]`. */
  path: string;
  message: string;
}

export function formatProblem(p: ConfigProblem): string {
  const where = p.line === undefined ? p.file : `${p.file}:${p.line}:${p.column ?? 1}`;
  return p.path ? `${where}: ${p.path}: ${p.message}` : `${where}: ${p.message}`;
}

/** The config file cannot be used; `problems` lists everything wrong at once. The running config stays. */
export class ConfigValidationError extends Error {
  override readonly name = 'ConfigValidationError';
  constructor(
    readonly file: string,
    readonly problems: ConfigProblem[],
    options?: { cause?: unknown },
  ) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`invalid config ${file} (${count}):\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`, options);
  }
}
