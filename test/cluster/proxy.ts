/**
 * A loopback TCP relay between an agent and the API server, to make the network fail the
 * way it does in a fleet: `freeze()` keeps every connection open but passes no byte (a
 * half-open connection: only a watchdog notices), `refuse()` drops every connection and
 * refuses new ones (an unreachable API server), `restore()` passes traffic again.
 */
import net from 'node:net';

export class FlakyRelay {
  private server: net.Server | undefined;
  private readonly pairs = new Set<[net.Socket, net.Socket]>();
  private mode: 'pass' | 'freeze' | 'refuse' = 'pass';
  /** Connections accepted while frozen, connected upstream on restore. */
  private readonly held = new Set<net.Socket>();
  port = 0;

  constructor(private readonly target: { host: string; port: number }) {}

  async start(): Promise<number> {
    this.server = net.createServer((client) => this.accept(client));
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    this.port = (this.server.address() as net.AddressInfo).port;
    return this.port;
  }

  /** Connections stay open and carry nothing, in either direction. */
  freeze(): void {
    this.mode = 'freeze';
    for (const pair of this.pairs) halt(pair);
  }

  /** Every connection is reset and new ones are closed at once. */
  refuse(): void {
    this.mode = 'refuse';
    for (const [a, b] of this.pairs) { a.destroy(); b.destroy(); }
    for (const client of this.held) client.destroy();
    this.pairs.clear();
    this.held.clear();
  }

  restore(): void {
    this.mode = 'pass';
    for (const pair of this.pairs) flow(pair);
    for (const client of this.held) if (!client.destroyed) this.connect(client);
    this.held.clear();
  }

  get connections(): number { return this.pairs.size; }

  async stop(): Promise<void> {
    this.refuse();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  private accept(client: net.Socket): void {
    if (this.mode === 'refuse') {
      client.destroy();
      return;
    }
    if (this.mode === 'freeze') {
      // Accepted, and nothing more until restore: the server never hears of it meanwhile.
      this.held.add(client);
      client.on('close', () => this.held.delete(client));
      return;
    }
    this.connect(client);
  }

  private connect(client: net.Socket): void {
    const upstream = net.connect(this.target.port, this.target.host);
    const pair: [net.Socket, net.Socket] = [client, upstream];
    this.pairs.add(pair);
    const close = (): void => {
      client.destroy();
      upstream.destroy();
      this.pairs.delete(pair);
    };
    client.on('error', close).on('close', close);
    upstream.on('error', close).on('close', close);
    flow(pair);
  }
}

function flow([a, b]: [net.Socket, net.Socket]): void {
  a.pipe(b);
  b.pipe(a);
}

function halt([a, b]: [net.Socket, net.Socket]): void {
  a.unpipe(b);
  b.unpipe(a);
  a.pause();
  b.pause();
}
