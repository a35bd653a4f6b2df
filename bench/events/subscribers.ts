/** The subscriber child process seen from the bench: start, poll counts, stop. */
import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import type { SubscriberReport } from './subscriber.js';

const IDLE_MS = 1500;
export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class Subscribers {
  private constructor(private readonly child: ChildProcess) {}

  /** The subscriber process (for its CPU time). */
  get pid(): number { return this.child.pid!; }

  /** `window`: the clients' HTTP/2 receive window in bytes (0: grpc-js's default). */
  static async start(target: string, clients: number, window = 0): Promise<Subscribers> {
    const args = [target, String(clients), 'raw', String(window)];
    const child = fork(new URL('./subscriber.ts', import.meta.url).pathname, args, { execArgv: ['--import', 'tsx'] });
    const [m] = (await once(child, 'message')) as [string];
    if (m !== 'ready') throw new Error(`subscriber said ${m}`);
    return new Subscribers(child);
  }

  async report(): Promise<SubscriberReport> {
    this.child.send('report');
    const [r] = (await once(this.child, 'message')) as [SubscriberReport];
    return r;
  }

  /** Poll until every client has `expected` events or nothing arrives for IDLE_MS. */
  async settle(expected: number): Promise<SubscriberReport> {
    let last = -1;
    let since = Date.now();
    for (;;) {
      await sleep(100);
      const r = await this.report();
      const total = r.received.reduce((a, b) => a + b, 0);
      if (r.received.every((n) => n >= expected)) return r;
      if (total !== last) { last = total; since = Date.now(); } else if (Date.now() - since > IDLE_MS) return r;
    }
  }

  async stop(): Promise<void> {
    this.child.send('exit');
    await once(this.child, 'exit');
  }
}

/** Delivery at the client end: events per second each subscriber received. */
export function clientRate(r: SubscriberReport): { perSubscriber: number; seconds: number; received: number } {
  const per = Math.min(...r.received);
  const seconds = (r.lastAt - r.firstAt) / 1000;
  return { perSubscriber: seconds > 0 ? Math.round(per / seconds) : 0, seconds: +seconds.toFixed(3), received: r.received.reduce((a, b) => a + b, 0) };
}

/**
 * Until events reach `seen()`: small loads until one arrives. The port reader is a
 * worker thread that must start (and, from sources, compile) first, which on a loaded
 * machine takes far longer than any fixed wait.
 */
export async function untilFlowing(generate: (n: number) => Promise<void>, seen: () => number, timeoutMs = 120_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (seen() === 0) {
    if (Date.now() > deadline) throw new Error(`no event arrived within ${timeoutMs} ms`);
    await generate(16);
    await sleep(100);
  }
}
