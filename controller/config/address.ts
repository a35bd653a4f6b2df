/**
 * Listen addresses: `host:port`, `[v6]:port`, `:port` (all interfaces), and for gRPC
 * `unix:/path`. What is local is decided by address, never by name: `localhost` is taken
 * to mean the loopback address itself (bound as 127.0.0.1, whatever a hosts file says),
 * and any other host name is treated as reachable from other machines.
 */
import { BlockList, isIP } from 'node:net';

export interface ListenAddress {
  host: string;
  port: number;
}

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

const FORM = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/;
export const UNIX_PREFIX = 'unix:';

const loopback = new BlockList();
loopback.addSubnet('127.0.0.0', 8, 'ipv4');
loopback.addAddress('::1', 'ipv6');

export function parseListenAddress(address: string): ListenAddress {
  const m = FORM.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new AddressError(`"${address}" is not a listen address (host:port, [ipv6]:port or :port, port 0-65535)`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** True for an IP address in 127.0.0.0/8 or ::1 (also IPv4-mapped): reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  const family = isIP(host);
  if (family === 0) return false;
  return loopback.check(host, family === 6 ? 'ipv6' : 'ipv4');
}

export function isUnixAddress(address: string): boolean {
  return address.startsWith(UNIX_PREFIX);
}

/** The socket path of a `unix:` address (throws when there is none). */
export function unixSocketPath(address: string): string {
  const path = address.slice(UNIX_PREFIX.length).replace(/^\/\/(?=\/)/, '');
  if (path === '') throw new AddressError(`"${address}" names no socket path (unix:/path/to/socket)`);
  return path;
}

/** `localhost:p` → `127.0.0.1:p`: the name is never looked up, so it cannot mean another address. */
export function canonicalListenAddress(address: string): string {
  if (isUnixAddress(address)) return address;
  const m = FORM.exec(address.trim());
  if (!m || m[2]?.toLowerCase() !== 'localhost') return address;
  return `127.0.0.1:${m[3]}`;
}
