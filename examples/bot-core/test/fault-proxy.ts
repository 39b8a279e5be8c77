// A TCP proxy in front of a real server (PostgreSQL) that a test controls: pass through, delay
// every chunk, cut (destroy every socket, keep listening) or stop listening, on a fixed port.
import type { AddressInfo } from 'node:net';
import net from 'node:net';

export interface FaultProxy {
  readonly port: number;
  /** Open client connections. */
  readonly connections: number;
  /** Delay of every chunk in each direction, in ms (0: pass through). */
  delayMs: number;
  /** Destroys every open connection (a network reset mid-query); keeps accepting new ones. */
  reset(): void;
  /** Destroys every connection and stops listening (the database is gone). */
  cut(): Promise<void>;
  /** Listens again on the same port after `cut()`. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let server: net.Server | undefined;
  const pairs = new Set<[net.Socket, net.Socket]>();
  let port = 0;
  let delayMs = 0;
  const forward = (from: net.Socket, to: net.Socket) => {
    from.on('data', (chunk) => {
      if (delayMs <= 0) {
        if (!to.destroyed) to.write(chunk);
        return;
      }
      setTimeout(() => {
        if (!to.destroyed) to.write(chunk);
      }, delayMs);
    });
  };
  const listen = async () => {
    const s = net.createServer((client) => {
      const upstream = net.connect(target.port, target.host);
      const pair: [net.Socket, net.Socket] = [client, upstream];
      pairs.add(pair);
      const drop = () => {
        client.destroy();
        upstream.destroy();
        pairs.delete(pair);
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      forward(client, upstream);
      forward(upstream, client);
    });
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const reset = () => {
    for (const [a, b] of [...pairs]) {
      a.destroy();
      b.destroy();
    }
    pairs.clear();
  };
  await listen();
  const cut = async () => {
    const s = server;
    server = undefined;
    reset();
    await new Promise<void>((r) => (s ? s.close(() => r()) : r()));
  };
  return {
    get port() {
      return port;
    },
    get connections() {
      return pairs.size;
    },
    get delayMs() {
      return delayMs;
    },
    set delayMs(ms: number) {
      delayMs = ms;
    },
    reset,
    cut,
    async restore() {
      if (!server) await listen();
    },
    close: cut,
  };
}
