/**
 * Environment variables that Windows paths may start with (`%SystemRoot%\System32\x`).
 * The defaults are those of a standard Windows Server installation; the agent passes
 * the node's real values. Per-user variables (USERPROFILE, APPDATA, TEMP) are left out
 * on purpose: the agent runs as LocalSystem, so their values would not be the user's.
 */
export type Environment = Readonly<Record<string, string>>;

export const DEFAULT_ENVIRONMENT: Environment = {
  SystemDrive: 'C:',
  SystemRoot: 'C:\\Windows',
  windir: 'C:\\Windows',
  ProgramFiles: 'C:\\Program Files',
  'ProgramFiles(x86)': 'C:\\Program Files (x86)',
  ProgramW6432: 'C:\\Program Files',
  ProgramData: 'C:\\ProgramData',
  ALLUSERSPROFILE: 'C:\\ProgramData',
  CommonProgramFiles: 'C:\\Program Files\\Common Files',
  'CommonProgramFiles(x86)': 'C:\\Program Files (x86)\\Common Files',
  CommonProgramW6432: 'C:\\Program Files\\Common Files',
  PUBLIC: 'C:\\Users\\Public',
  ComSpec: 'C:\\Windows\\system32\\cmd.exe',
};

/** Windows variable names are case-insensitive: a lookup keyed by upper-cased name. */
export function environmentLookup(environment: Environment): Map<string, { name: string; value: string }> {
  const lookup = new Map<string, { name: string; value: string }>();
  for (const [name, value] of Object.entries(environment)) lookup.set(name.toUpperCase(), { name, value });
  return lookup;
}

/** The defaults overridden (and extended) by the caller's values. */
export function withDefaults(overrides: Environment | undefined): Environment {
  if (!overrides) return DEFAULT_ENVIRONMENT;
  const merged = new Map<string, [string, string]>();
  for (const source of [DEFAULT_ENVIRONMENT, overrides]) {
    for (const [name, value] of Object.entries(source)) merged.set(name.toUpperCase(), [name, value]);
  }
  return Object.fromEntries(merged.values());
}
