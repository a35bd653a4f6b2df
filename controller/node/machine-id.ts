/**
 * The node's machine id, as upstream KubeArmor fills `NodeID`: a stable id of the
 * installation that outlives renames of the host. On Windows it is the MachineGuid under
 * HKLM\SOFTWARE\Microsoft\Cryptography (set at installation); on Linux, where the
 * emulator runs, /etc/machine-id, then /var/lib/dbus/machine-id (upstream's order).
 * Without one, upstream falls back to the node name, and so does kawin.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CRYPTOGRAPHY_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Cryptography';
const LINUX_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

/** Where the id is read from; synchronous, as it is read once while the agent is built. */
export interface MachineIdSources {
  platform: NodeJS.Platform;
  /** Runs `reg query KEY /v VALUE` and returns its output (Windows); throws when absent. */
  queryRegistry(key: string, value: string): string;
  /** Throws when absent. */
  readFile(path: string): string;
}

const REAL: MachineIdSources = {
  platform: process.platform,
  queryRegistry: (key, value) => execFileSync('reg', ['query', key, '/v', value], { windowsHide: true, timeout: 5000, encoding: 'utf8' }),
  readFile: (path) => readFileSync(path, 'utf8'),
};

const orEmpty = (read: () => string): string => {
  try {
    return read();
  } catch {
    return '';
  }
};

/** The MachineGuid out of `reg query`'s text (`    MachineGuid    REG_SZ    <guid>`). */
export function machineGuidFromRegOutput(text: string): string | undefined {
  const m = /^\s*MachineGuid\s+REG_SZ\s+(\S+)\s*$/m.exec(text);
  return m?.[1];
}

/** The real machine's id, read once: it does not change while the machine runs (`reg query` is a process spawn). */
let realId: string | null | undefined;

/** The machine id, or `fallback` (the node name) when this node has none. */
export function machineId(fallback: string, sources: MachineIdSources = REAL): string {
  if (sources !== REAL) return readMachineId(sources) ?? fallback;
  if (realId === undefined) realId = readMachineId(REAL) ?? null;
  return realId ?? fallback;
}

function readMachineId(sources: MachineIdSources): string | undefined {
  if (sources.platform === 'win32') {
    return machineGuidFromRegOutput(orEmpty(() => sources.queryRegistry(CRYPTOGRAPHY_KEY, 'MachineGuid')));
  }
  for (const path of LINUX_FILES) {
    const id = orEmpty(() => sources.readFile(path)).trim();
    if (id !== '') return id;
  }
  return undefined;
}
