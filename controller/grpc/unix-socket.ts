/**
 * Listening on a unix socket for gRPC. The socket is created owner-only (0600) whatever
 * the umask, since anyone who can connect may change enforcement (a unix peer is local
 * by construction). A socket file left by a process that died is replaced; one that
 * still answers is another server's, and an error.
 */
import { connect } from 'node:net';
import { chmod, lstat, unlink } from 'node:fs/promises';

export const UNIX_SOCKET_MODE = 0o600;

function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(path);
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

/** Clears a stale socket at `path`; throws when something else is there or a server answers. */
export async function prepareUnixSocket(path: string): Promise<void> {
  const existing = await lstat(path).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!existing) return;
  if (!existing.isSocket()) throw new Error(`${path} exists and is not a socket: refusing to replace it`);
  if (await answers(path)) throw new Error(`${path}: another server is listening on this socket`);
  await unlink(path);
}

/**
 * Runs `bind` with a umask that makes the socket 0600 from its creation (no window in
 * which others could connect), then checks the mode. The umask is process-wide: the bind
 * is the only thing the agent does at that point of its start-up.
 */
export async function bindOwnerOnly<T>(path: string, bind: () => Promise<T>): Promise<T> {
  const previous = process.umask(0o177);
  let result: T;
  try {
    result = await bind();
  } finally {
    process.umask(previous);
  }
  await chmod(path, UNIX_SOCKET_MODE);
  return result;
}
