/** Command-line flags written into the raw config before validation, so they are checked like the file. */
import path from 'node:path';
import type { ConfigOverrides } from './types.js';

type Raw = Record<string, unknown>;

interface Override {
  flag: string;
  pointer: string;
  value: (o: ConfigOverrides) => unknown;
}

/** Each flag, the field it sets and the value (paths from flags resolve against the working directory). */
const OVERRIDES: Override[] = [
  { flag: '--policies', pointer: '/sources/files/paths', value: (o) => o.policyDirs?.map((d) => path.resolve(d)) },
  { flag: '--policies', pointer: '/sources/files/enabled', value: (o) => (o.policyDirs?.length ? true : undefined) },
  { flag: '--driver', pointer: '/driver/kind', value: (o) => o.driverKind },
  { flag: '--grpc-address', pointer: '/grpc/address', value: (o) => o.grpcAddress },
  { flag: '--metrics-address', pointer: '/metrics/address', value: (o) => o.metricsAddress },
  { flag: '--state-dir', pointer: '/stateDir', value: (o) => (o.stateDir === undefined ? undefined : path.resolve(o.stateDir)) },
  { flag: '--log-level', pointer: '/logging/level', value: (o) => o.logLevel },
];

function setAt(target: Raw, pointer: string, value: unknown): void {
  const keys = pointer.slice(1).split('/');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Raw;
  }
  node[keys[keys.length - 1]!] = value;
}

/** Apply the flags to `raw` (in place); returns pointer → flag for error reporting. */
export function applyOverrides(raw: Raw, overrides: ConfigOverrides): Map<string, string> {
  const applied = new Map<string, string>();
  for (const o of OVERRIDES) {
    const value = o.value(overrides);
    if (value === undefined) continue;
    setAt(raw, o.pointer, value);
    applied.set(o.pointer, o.flag);
  }
  return applied;
}

/** The flag that set `pointer` or one of its parents, if any. */
export function flagFor(applied: Map<string, string>, pointer: string): string | undefined {
  for (const [p, flag] of applied) if (pointer === p || pointer.startsWith(`${p}/`)) return flag;
  return undefined;
}
