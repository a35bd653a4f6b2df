/**
 * The node's machine id, as upstream KubeArmor fills `NodeID`: a stable id of the
 * installation that outlives renames of the host. On Windows it is the MachineGuid under
 * HKLM\SOFTWARE\Microsoft\Cryptography (set at installation); on Linux, where the
 * emulator runs, /etc/machine-id, then /var/lib/dbus/machine-id (upstream's order).
 * Without one, upstream falls back to the node name, and so does kawin.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

const CRYPTOGRAPHY_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Cryptography';
const LINUX_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];

export interface MachineIdSources {
  platform: NodeJS.Platform;
  /** Runs `reg query KEY /v MachineGuid` and returns its output (Windows). */
  queryRegistry(key: string, value: string): Promise<string>;
  readFile(path: string): Promise<string>;
}

const REAL: MachineIdSources = {
  platform: process.platform,
  queryRegistry: (key, value) => new Promise((resolve, reject) => {
    execFile('reg', ['query', key, '/v', value], { windowsHide: true, timeout: 5000 }, (error, stdout) => (error ? reject(error) : resolve(stdout)));
  }),
  readFile: (path) => readFile(path, 'utf8'),
};

/** The MachineGuid out of `reg query`'s text (`    MachineGuid    REG_SZ    <guid>`). */
export function machineGuidFromRegOutput(text: string): string | undefined {
  const m = /^\s*MachineGuid\s+REG_SZ\s+(\S+)\s*$/m.exec(text);
  return m?.[1];
}

/** The machine id, or `fallback` (the node name) when this node has none. */
export async function machineId(fallback: string, sources: MachineIdSources = REAL): Promise<string> {
  if (sources.platform === 'win32') {
    const text = await sources.queryRegistry(CRYPTOGRAPHY_KEY, 'MachineGuid').catch(() => '');
    return machineGuidFromRegOutput(text) ?? fallback;
  }
  for (const path of LINUX_FILES) {
    const id = (await sources.readFile(path).catch(() => '')).trim();
    if (id !== '') return id;
  }
  return fallback;
}
