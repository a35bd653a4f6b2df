/**
 * The agent's state directory is trusted input: what is persisted there (gRPC-applied
 * policies, the emulator's sockets) is restored and enforced at the next start. So it is
 * created owner-only (directories 0700, files 0600) whatever the umask, and state that
 * another user could have written is refused with a clear error rather than used.
 */
export { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE, UnsafeStateError, ensurePrivateDir, verifyPrivate } from './private.js';
