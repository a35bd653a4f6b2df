/**
 * The machine's stable id, as upstream KubeArmor fills NodeID: on Windows the
 * MachineGuid (HKLM\SOFTWARE\Microsoft\Cryptography), on Linux (the emulator's host)
 * /etc/machine-id, then /var/lib/dbus/machine-id; the node name when none is readable.
 * Read once per process: it does not change while the machine runs.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

export const MACHINE_ID_FILES = ['/etc/machine-id', '/var/lib/dbus/machine-id'];
const REGISTRY_KEY = 'HKLM\\SOFTWARE\\Microsoft\\Cryptography';

/** `reg query` output → the MachineGuid value, if present. */
export function parseMachineGuid(regOutput: string): string | undefined {
  return /^\s*MachineGuid\s+REG_SZ\s+(\S+)\s*$/m.exec(regOutput)?.[1];
}

function windowsMachineGuid(): string | undefined {
  try {
    return parseMachineGuid(execFileSync('reg', ['query', REGISTRY_KEY, '/v', 'MachineGuid'], { encoding: 'utf8', windowsHide: true, timeout: 5000 }));
  } catch {
    return undefined;
  }
}

export function readMachineIdFile(files: readonly string[] = MACHINE_ID_FILES): string | undefined {
  for (const file of files) {
    try {
      const id = readFileSync(file, 'utf8').trim();
      if (id) return id;
    } catch {
      // next candidate
    }
  }
  return undefined;
}

let cached: string | undefined | null = null;

/** The machine id, or undefined when this machine has none readable. */
export function machineId(): string | undefined {
  if (cached === null) cached = process.platform === 'win32' ? windowsMachineGuid() : readMachineIdFile();
  return cached;
}
