/**
 * Who acted: the pid→image table (fed by process-create events, for ParentProcessName
 * of later events) and the SID→(UID, UserName) mapping.
 */
import { BoundedMap } from '../../driver/collections/index.js';

export class ProcessTable {
  readonly images: BoundedMap<number, string>;

  constructor(capacity: number) {
    this.images = new BoundedMap('events.processTableSize', capacity);
  }

  started(pid: number, image: string): void {
    if (pid !== 0 && image !== '') this.images.set(pid, image);
  }

  exited(pid: number): void { this.images.delete(pid); }

  image(pid: number): string { return this.images.get(pid) ?? ''; }
}

export interface UserIdentity {
  uid: number;
  userName: string;
}

/** Well-known service accounts: UID 0 for LocalSystem, as root is 0 upstream. */
const WELL_KNOWN: Record<string, UserIdentity> = {
  'S-1-5-18': { uid: 0, userName: 'NT AUTHORITY\\SYSTEM' },
  'S-1-5-19': { uid: 19, userName: 'NT AUTHORITY\\LOCAL SERVICE' },
  'S-1-5-20': { uid: 20, userName: 'NT AUTHORITY\\NETWORK SERVICE' },
};
const NONE: UserIdentity = { uid: 0, userName: '' };
const INT32_MAX = 0x7fff_ffff;

/**
 * UID from a string SID: 0 for LocalSystem, the RID (last sub-authority) for account
 * SIDs (`S-1-5-21-…-1001` → 1001, the convention Cygwin and WSL use); UserName is the
 * well-known account name or else the SID itself (names need LookupAccountSid).
 */
export function identityFromSid(sid: string): UserIdentity {
  if (sid === '') return NONE;
  const known = WELL_KNOWN[sid];
  if (known) return known;
  let uid = 0;
  if (sid.startsWith('S-1-5-21-')) {
    const rid = Number(sid.slice(sid.lastIndexOf('-') + 1));
    if (Number.isInteger(rid) && rid <= INT32_MAX) uid = rid;
  }
  return { uid, userName: sid };
}

export class SidTable {
  readonly cache: BoundedMap<string, UserIdentity>;

  constructor(capacity: number) {
    this.cache = new BoundedMap('events.sidCacheSize', capacity);
  }

  identity(sid: string): UserIdentity {
    return this.cache.getOrCompute(sid, identityFromSid);
  }
}
