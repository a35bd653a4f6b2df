/**
 * `Data` text for a file open: the desired access as names (`access=READ_DATA|WRITE_DATA`),
 * in the spirit of upstream's `flags=O_RDONLY`. Few distinct masks occur, so the text
 * is cached per mask.
 */
import { ACCESS } from '../../driver/abi/types.js';
import { BoundedMap } from '../../driver/collections/index.js';

const NAMES: [number, string][] = [
  [ACCESS.readData, 'READ_DATA'],
  [ACCESS.writeData, 'WRITE_DATA'],
  [ACCESS.appendData, 'APPEND_DATA'],
  [ACCESS.writeEa, 'WRITE_EA'],
  [ACCESS.execute, 'EXECUTE'],
  [ACCESS.writeAttributes, 'WRITE_ATTRIBUTES'],
  [ACCESS.delete, 'DELETE'],
  [ACCESS.writeDac, 'WRITE_DAC'],
  [ACCESS.writeOwner, 'WRITE_OWNER'],
  [ACCESS.genericAll, 'GENERIC_ALL'],
  [ACCESS.genericWrite, 'GENERIC_WRITE'],
];

export function accessText(mask: number): string {
  const parts: string[] = [];
  let rest = mask >>> 0;
  for (const [bit, name] of NAMES) {
    if (rest & bit) {
      parts.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest !== 0 || parts.length === 0) parts.push(`0x${rest.toString(16)}`);
  return `access=${parts.join('|')}`;
}

export class AccessTextCache {
  private readonly cache = new BoundedMap<number, string>('events.accessTextCache', 1024);

  text(mask: number): string {
    return this.cache.getOrCompute(mask, accessText);
  }
}
