/** Small helpers of the cluster harness: free ports, polling, kubectl. */
import { execFile } from 'node:child_process';

export { freePort } from '../net.js';

/** Poll `check` every 100 ms until it is true; fail with `what` after `timeoutMs` (or once `dead()`). */
export async function waitFor(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 10_000, dead?: () => boolean): Promise<void> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await check()) return;
    } catch (error) {
      last = error;
    }
    if (dead?.()) throw new Error(`${what}: the process exited`);
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export function kubectl(kubeconfig: string, args: string[], input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('kubectl', ['--kubeconfig', kubeconfig, ...args], { maxBuffer: 64 << 20 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`kubectl ${args.join(' ')}: ${stderr.trim() || error.message}`, { cause: error }));
      else resolve(stdout);
    });
    if (input !== undefined) child.stdin!.end(input);
  });
}
