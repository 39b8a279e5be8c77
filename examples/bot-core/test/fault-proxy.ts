// A TCP proxy in front of a real server (PostgreSQL, Redis) that a test controls: pass through,
// delay every chunk, reset (destroy every socket), cut (stop listening: connections refused),
// or blackhole (a partition: packets dropped, the sockets stay open), on a fixed port.
import type { AddressInfo } from 'node:net';
import net from 'node:net';

/**
 * How a blackhole treats what is sent meanwhile: `stall` holds it and delivers it (and any close)
 * at `heal()`, as TCP retransmission does after a partition shorter than its timeout (so a query
 * sent during the partition may still run on the server later); `drop` discards it and resets
 * every connection at `heal()`.
 */
export type BlackholeMode = 'stall' | 'drop';

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
  /**
   * A partition: connections are still accepted (a new one reaches the target only at `heal()`),
   * nothing is forwarded in either direction and no close is propagated.
   */
  blackhole(mode?: BlackholeMode): void;
  /** Ends the partition (see `BlackholeMode`). */
  heal(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket | undefined;
  /** Chunks held during a stall, per direction, in order; `null` marks a close. */
  held: Array<{ toUpstream: boolean; chunk: Buffer | null }>;
  closed: boolean;
}

export async function startFaultProxy(target: { host: string; port: number }): Promise<FaultProxy> {
  let server: net.Server | undefined;
  const pairs = new Set<Pair>();
  let port = 0;
  let delayMs = 0;
  let hole: BlackholeMode | undefined;

  const destroy = (p: Pair) => {
    p.closed = true;
    p.client.destroy();
    p.upstream?.destroy();
    pairs.delete(p);
  };
  const send = (p: Pair, toUpstream: boolean, chunk: Buffer) => {
    const to = toUpstream ? p.upstream : p.client;
    if (!to || to.destroyed) return;
    if (delayMs <= 0) to.write(chunk);
    else setTimeout(() => to.destroyed || to.write(chunk), delayMs);
  };
  const onData = (p: Pair, toUpstream: boolean) => (chunk: Buffer) => {
    if (hole === 'drop') return;
    if (hole === 'stall') p.held.push({ toUpstream, chunk });
    else send(p, toUpstream, chunk);
  };
  const onClose = (p: Pair) => () => {
    if (p.closed) return;
    if (hole === 'stall') p.held.push({ toUpstream: true, chunk: null });
    else if (!hole) destroy(p);
  };
  const connectUpstream = (p: Pair) => {
    const upstream = net.connect(target.port, target.host);
    p.upstream = upstream;
    upstream.on('data', onData(p, false));
    upstream.on('error', onClose(p)).on('close', onClose(p));
  };

  const listen = async () => {
    const s = net.createServer((client) => {
      const p: Pair = { client, upstream: undefined, held: [], closed: false };
      pairs.add(p);
      client.on('data', onData(p, true));
      client.on('error', onClose(p)).on('close', onClose(p));
      if (!hole) connectUpstream(p);
    });
    s.on('error', () => undefined);
    await new Promise<void>((r) => s.listen(port, '127.0.0.1', r));
    port = (s.address() as AddressInfo).port;
    server = s;
  };
  const reset = () => {
    for (const p of [...pairs]) destroy(p);
  };
  await listen();
  const cut = async () => {
    const s = server;
    server = undefined;
    hole = undefined;
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
    blackhole(mode: BlackholeMode = 'stall') {
      hole = mode;
    },
    heal() {
      const was = hole;
      hole = undefined;
      for (const p of [...pairs]) {
        if (was === 'drop') {
          destroy(p);
          continue;
        }
        if (!p.upstream) connectUpstream(p);
        const held = p.held.splice(0);
        let closing = false;
        for (const h of held) {
          if (h.chunk === null) {
            closing = true;
            break;
          }
          send(p, h.toUpstream, h.chunk);
        }
        // what was sent before the close arrives first, then the close (end, not a reset)
        if (closing || p.client.destroyed) {
          p.closed = true;
          p.upstream?.end();
          p.client.end();
          pairs.delete(p);
        }
      }
    },
    close: cut,
  };
}
