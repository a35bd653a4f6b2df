/** A listen address `host:port`, `[v6]:port` or `:port` (all interfaces), split. */
export interface ListenAddress {
  host: string;
  port: number;
}

export class AddressError extends Error {
  override readonly name = 'AddressError';
}

const FORM = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]]*)):(\d{1,5})$/;

export function parseListenAddress(address: string): ListenAddress {
  const m = FORM.exec(address.trim());
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new AddressError(`"${address}" is not a listen address (host:port, [ipv6]:port or :port, port 0-65535)`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port };
}

/** True for 127.0.0.0/8, ::1 and localhost: reachable only from this machine. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
