import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

/** An embedded PostgreSQL (PGlite, WebAssembly) served over the wire protocol on 127.0.0.1. */
export interface EmbeddedPostgres {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`, for a `pg` Pool. */
  readonly connectionString: string;
  readonly port: number;
  /** Stops accepting connections (existing ones are dropped); the data stays. For fault injection. */
  stopServer(): Promise<void>;
  /** Serves again on the same port after `stopServer()`. */
  startServer(): Promise<void>;
  readonly serving: boolean;
  close(): Promise<void>;
}

/**
 * Starts PGlite and serves it with `@electric-sql/pglite-socket` on a free loopback port, so the
 * application talks to it through `pg` exactly as it would to a real server.
 */
export async function startEmbeddedPostgres(options: {
  dataDir?: string;
  maxConnections: number;
  /** Receives socket errors of the server (an EventTarget: unlistened errors are dropped silently). */
  onError?: (err: unknown) => void;
}): Promise<EmbeddedPostgres> {
  const db = await PGlite.create(options.dataDir ?? 'memory://');
  const serve = async (port: number) => {
    const server = new PGLiteSocketServer({
      db,
      host: '127.0.0.1',
      port,
      maxConnections: options.maxConnections,
    });
    server.addEventListener('error', (event) => options.onError?.((event as CustomEvent).detail));
    await server.start();
    return server;
  };
  let server: PGLiteSocketServer | undefined = await serve(0);
  const conn = server.getServerConn(); // "127.0.0.1:<port>"
  const port = Number(conn.slice(conn.lastIndexOf(':') + 1));
  if (!Number.isInteger(port) || port <= 0)
    throw new Error(`pglite-socket reported an unexpected address ${conn}`);
  return {
    connectionString: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    get serving() {
      return server !== undefined;
    },
    async stopServer() {
      const s = server;
      server = undefined;
      await s?.stop();
    },
    async startServer() {
      if (!server) server = await serve(port);
    },
    async close() {
      const s = server;
      server = undefined;
      await s?.stop().catch(() => {});
      await db.close().catch(() => {});
    },
  };
}
