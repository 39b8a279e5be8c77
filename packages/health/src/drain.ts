import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { Server as NetServer, type Socket } from 'node:net';

/**
 * How `createShutdown` drains a node HTTP server without resetting a request a client sent.
 *
 * A request is reset when the server destroys a socket the client has just written it to, or
 * closes its listening socket while the client's connection still waits in the kernel's accept
 * queue (a busy server accepts a waiting connection only when its event loop gets to it: under
 * load, every client that is opening a connection waits there). So:
 *
 * 1. Pre-stop delay (`delayMs`): readiness says 503 while load balancers deregister the
 *    instance; the listener stays open and responses stay keep-alive. Telling clients
 *    `Connection: close` here would send every busy client into the accept queue for its next
 *    request, where the listener's close resets it (measured: up to all 50 of 50 clients).
 * 2. Settle: Node accepts one waiting connection per event-loop turn, so a turn whose poll phase
 *    accepted nothing means the accept queue was empty: the listener is closed right then (in
 *    that turn's check phase), or after `timeoutMs / 2` if connections keep arriving. Behind a
 *    load balancer that stopped routing here that is at once; kept-alive clients are not
 *    connecting, so they are not in the accept queue.
 * 3. Closing: no new connection is accepted; every response carries `Connection: close` (those in
 *    flight too, when their headers are not out yet), so each socket closes after its in-flight
 *    response, never during one, and its client's next request opens a new connection: refused
 *    here (never sent: safe to retry) or, behind a balancer, routed to another instance. A socket
 *    with no request in flight is destroyed once it has been idle for `IDLE_GRACE_MS` with no byte
 *    received since: a client that got a keep-alive answer just before the listener closed sends
 *    its next request within the grace and is answered (with `Connection: close`).
 *
 * What stays is inherent to HTTP/1.1 keep-alive: a client that writes a request on a socket that
 * has been idle for the whole grace at the instant the server destroys it gets a reset (Go's
 * `http.Server.Shutdown` and HAProxy's soft stop have the same window), and so does a client whose
 * new connection reaches the accept queue during the turn in which the listener closes.
 *
 * `http.Server#close()` is not used to stop accepting: since Node 19 it also destroys every
 * connection that is between two requests at that instant (`closeIdleConnections()`), which
 * resets the request a keep-alive client is writing right then. The listener is closed with the
 * method of `net.Server` that `http.Server` extends, and idle sockets are closed by the rule above.
 */

/** A socket with no request in flight is destroyed after being idle (no byte received) this long. */
export const IDLE_GRACE_MS = 1000;
const SWEEP_MS = 25;

type Phase = 'serving' | 'closing';

interface Conn {
  /** Requests received whose response has not closed yet. */
  inFlight: number;
  /** When the socket last turned idle (or connected). */
  idleSince: number;
  /** `socket.bytesRead` then: a byte since means a request (or an upgrade) is on its way. */
  bytesAtIdle: number;
}

/** True when `work` settles within `ms`; the timer is cleared either way. */
async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work.then(() => true),
      new Promise<false>((resolve) => {
        timer = setTimeout(() => resolve(false), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Destroys the connections idle for IDLE_GRACE_MS with nothing read since (no request on its way). */
function destroyIdle(conns: Map<Socket, Conn>): void {
  const now = performance.now();
  for (const [socket, conn] of conns) {
    if (
      conn.inFlight === 0 &&
      now - conn.idleSince >= IDLE_GRACE_MS &&
      socket.bytesRead === conn.bytesAtIdle
    ) {
      socket.destroy();
    }
  }
}

export interface ServerDrainer {
  /**
   * Settles, stops accepting and waits until every connection closed (see above). After
   * `timeoutMs` the remaining connections are destroyed and it resolves false. With `closeAfter`
   * the server's own `close()` runs at the end (Node's clean-up of its connection tracking).
   */
  close(timeoutMs: number, closeAfter: boolean): Promise<boolean>;
  /** Removes the listeners. */
  dispose(): void;
}

/** Tracks the server's connections and requests from now on (public `'connection'`/`'request'` events). */
export function serverDrainer(server: Server): ServerDrainer {
  let phase: Phase = 'serving';
  let accepted = 0;
  const conns = new Map<Socket, Conn>();
  const open = new Set<ServerResponse>();

  const track = (socket: Socket): Conn => {
    const conn: Conn = { inFlight: 0, idleSince: performance.now(), bytesAtIdle: socket.bytesRead };
    conns.set(socket, conn);
    socket.once('close', () => conns.delete(socket));
    return conn;
  };
  const onAccept = () => {
    accepted++;
  };
  const onConnection = (socket: Socket) => {
    track(socket);
  };
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    const conn = conns.get(socket) ?? track(socket);
    conn.inFlight++;
    open.add(res);
    // prepended: runs before the application's handler writes anything
    if (phase === 'closing') res.setHeader('connection', 'close');
    res.once('close', () => {
      open.delete(res);
      if (--conn.inFlight === 0) {
        conn.idleSince = performance.now();
        conn.bytesAtIdle = socket.bytesRead;
      }
    });
  };
  // every accept counts for the settle; TLS: the request's socket is the one of
  // 'secureConnection', not the raw one of 'connection'
  const connectionEvent =
    typeof (server as { addContext?: unknown }).addContext === 'function' ? 'secureConnection' : 'connection';
  server.on('connection', onAccept);
  server.on(connectionEvent, onConnection);
  server.prependListener('request', onRequest);

  const closeOpenResponses = () => {
    for (const res of open) if (!res.headersSent) res.setHeader('connection', 'close');
  };

  /** Until an event-loop turn accepts no connection (or `maxMs`): the accept queue is empty then. */
  const settle = async (maxMs: number) => {
    const until = performance.now() + maxMs;
    for (;;) {
      const before = accepted;
      await nextTurn();
      if (accepted === before || performance.now() >= until) return;
    }
  };

  const sweep = () => destroyIdle(conns);

  return {
    async close(timeoutMs, closeAfter) {
      const started = performance.now();
      if (!server.listening) return true;
      await settle(timeoutMs / 2);
      phase = 'closing';
      closeOpenResponses();
      const closed = new Promise<void>((resolve) => {
        NetServer.prototype.close.call(server, () => resolve());
      });
      sweep();
      const timer = setInterval(sweep, SWEEP_MS);
      try {
        const inTime = await within(closed, Math.max(0, timeoutMs - (performance.now() - started)));
        if (!inTime) {
          server.closeAllConnections();
          for (const socket of conns.keys()) socket.destroy();
          await within(closed, 1000);
        }
        return inTime;
      } finally {
        clearInterval(timer);
        // http.Server#close() also stops Node's timer that checks its connections' timeouts; no
        // connection is left for its closeIdleConnections() to touch
        if (closeAfter) server.close(() => undefined);
      }
    },
    dispose() {
      server.removeListener('connection', onAccept);
      server.removeListener(connectionEvent, onConnection);
      server.removeListener('request', onRequest);
    },
  };
}
