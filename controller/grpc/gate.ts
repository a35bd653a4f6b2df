/**
 * A named bound on heavy requests at once (DiffPolicies parses and compiles up to
 * grpc.maxMessageBytes of YAML on the agent's thread). A request over the bound is
 * refused at once, not queued: a queue would keep every waiting body in memory and run
 * them back to back, stalling the event loop for all of them. Refusals are counted
 * (`kawin_grpc_requests_refused_total{rpc}`).
 */
import { Counter, type Registry } from 'prom-client';

export class RequestGate {
  private inFlight = 0;
  /** Requests refused because `limit` were being worked on. */
  refused = 0;

  constructor(readonly rpc: string, readonly limit: number, readonly setting: string) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`${setting} must be a positive integer, got ${limit}`);
  }

  /** Takes a place (true), or counts a refusal (false). */
  tryEnter(): boolean {
    if (this.inFlight >= this.limit) {
      this.refused++;
      return false;
    }
    this.inFlight++;
    return true;
  }

  leave(): void {
    this.inFlight--;
  }

  get busy(): number {
    return this.inFlight;
  }

  refusal(): string {
    return `${this.rpc}: ${this.limit} request(s) are being worked on (config ${this.setting}); try again when they finish`;
  }
}

export function registerGateMetrics(gates: readonly RequestGate[], registry: Registry): void {
  const reported = new Map<string, number>();
  new Counter({
    name: 'kawin_grpc_requests_refused_total',
    help: 'Heavy gRPC requests refused with RESOURCE_EXHAUSTED because their concurrency bound was reached, by RPC',
    labelNames: ['rpc'],
    registers: [registry],
    collect() {
      for (const g of gates) {
        const delta = g.refused - (reported.get(g.rpc) ?? 0);
        if (delta > 0) this.inc({ rpc: g.rpc }, delta);
        reported.set(g.rpc, g.refused);
      }
    },
  });
}
