import { createConnection, createServer, type Server, type Socket } from 'node:net';

/**
 * What the proxy does to connections:
 * - `pass`: forwards both ways (after `delayMs` per chunk when set);
 * - `refuse`: nothing listens on the port (connection refused);
 * - `blackhole`: accepts, never connects upstream, never answers;
 * - `reset-handshake`: connects upstream, forwards the client's first bytes, then resets the client
 *   when the server's first answer arrives (a connection dying in its handshake);
 * - `half-open`: open connections stop forwarding in both directions but stay open, new ones are
 *   blackholed (a peer that vanished without a FIN or RST);
 * - `reset-mid-request`: every client message after a connection's first (its handshake) is
 *   forwarded, then the connection is reset before the answer comes back (answers are held back
 *   at least 50 ms): a query or command in flight when the connection dies.
 */
export type FaultMode =
  | 'pass'
  | 'refuse'
  | 'blackhole'
  | 'reset-handshake'
  | 'half-open'
  | 'reset-mid-request';

interface Pair {
  client: Socket;
  upstream?: Socket;
  frozen: boolean;
}

/** A TCP proxy on 127.0.0.1 in front of `targetPort`, whose faults a test switches at will. */
export class FaultProxy {
  port = 0;
  private mode: FaultMode = 'pass';
  private delayMs = 0;
  private server: Server | undefined;
  private readonly pairs = new Set<Pair>();
  /** Connections accepted since start. */
  accepted = 0;

  constructor(private readonly targetPort: number) {}

  async start(): Promise<this> {
    await this.listen();
    return this;
  }

  /** Open client connections. */
  get open(): number {
    return this.pairs.size;
  }

  async set(mode: FaultMode, options: { delayMs?: number } = {}): Promise<void> {
    this.delayMs = options.delayMs ?? 0;
    const was = this.mode;
    this.mode = mode;
    if (mode === 'half-open') for (const p of this.pairs) p.frozen = true;
    // the fault clears: a peer that vanished answers the next packet on an old connection with RST
    if (was === 'half-open' && mode !== 'half-open') {
      for (const p of [...this.pairs]) if (p.frozen || !p.upstream) this.drop(p, true);
    }
    if (mode === 'refuse' && was !== 'refuse') await this.unlisten();
    if (mode !== 'refuse' && was === 'refuse') await this.listen();
  }

  /** Resets (RST) every open connection, as a network cut or a server crash does. */
  cut(): number {
    const n = this.pairs.size;
    for (const p of [...this.pairs]) this.drop(p, true);
    return n;
  }

  async close(): Promise<void> {
    this.cut();
    await this.unlisten();
  }

  private listen(): Promise<void> {
    const server = createServer((client) => this.accept(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        server.off('error', reject);
        server.on('error', () => undefined);
        this.port = (server.address() as { port: number }).port;
        resolve();
      });
    });
  }

  private unlisten(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return Promise.resolve();
    // close() stops listening at once; its callback would wait for open connections to end
    server.close();
    return Promise.resolve();
  }

  private drop(pair: Pair, reset: boolean): void {
    this.pairs.delete(pair);
    for (const s of [pair.client, pair.upstream]) {
      if (!s || s.destroyed) continue;
      if (reset) s.resetAndDestroy();
      else s.destroy();
    }
  }

  private accept(client: Socket): void {
    this.accepted++;
    const pair: Pair = { client, frozen: false };
    this.pairs.add(pair);
    client.on('error', () => undefined);
    client.on('close', () => this.drop(pair, false));
    if (this.mode === 'blackhole' || this.mode === 'half-open') {
      client.resume();
      return;
    }
    const handshake = this.mode === 'reset-handshake';
    let fromClient = 0;
    const upstream = createConnection({ host: '127.0.0.1', port: this.targetPort });
    pair.upstream = upstream;
    upstream.on('error', () => this.drop(pair, true));
    upstream.on('close', () => this.drop(pair, false));
    const forward = (from: Socket, to: Socket, toClient: boolean) => {
      from.on('data', (chunk: Buffer) => {
        if (pair.frozen) return;
        if (toClient && handshake) {
          this.drop(pair, true);
          return;
        }
        const midRequest = this.mode === 'reset-mid-request';
        const write = () => {
          if (!pair.frozen && !to.destroyed) to.write(chunk);
        };
        const delay = midRequest && toClient ? Math.max(this.delayMs, 50) : this.delayMs;
        if (delay > 0) setTimeout(write, delay);
        else write();
        if (midRequest && !toClient && ++fromClient > 1) setTimeout(() => this.drop(pair, true), 10);
      });
    };
    forward(client, upstream, false);
    forward(upstream, client, true);
  }
}
