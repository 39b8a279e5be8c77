import { Agent, request as httpRequest, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealth, createShutdown, type Shutdown } from '../src/index.js';
import { get, httpServer, memoryLogger, sleep, timedAgainst } from './helpers.js';

const disposers: Array<() => unknown> = [];
afterEach(async () => {
  for (const fn of disposers.splice(0).reverse()) await fn();
});

/** GET over a keep-alive agent; resolves with status and body. */
function fetchVia(agent: Agent, url: string) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => {
        body += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function appServer(delayMs: number) {
  let started = 0;
  let lastStartAt = 0;
  const srv = await httpServer((req, res) => {
    started++;
    lastStartAt = performance.now(); // each response's delayMs timer starts here
    req.resume(); // read the body, as a real app does
    if (req.url === '/never') return; // never answers
    setTimeout(() => res.end(`done ${req.url}`), delayMs);
  });
  disposers.push(() => srv.close());
  return { ...srv, started: () => started, lastStartAt: () => lastStartAt };
}

const listening = (server: Server) => server.listening;

describe('createShutdown with a real http.Server', () => {
  it('readiness 503 at once; in-flight requests all complete; keep-alive sockets close; closers in order; exit 0', async () => {
    const app = await appServer(300);
    const health = createHealth({ checks: { a: () => true } });
    const order: string[] = [];
    const codes: number[] = [];
    const logger = memoryLogger();
    const shutdown = createShutdown({
      health,
      server: app.server,
      signals: false,
      exit: (code) => codes.push(code),
      logger,
      closers: [
        { name: 'pg', close: async () => void order.push('pg') },
        { name: 'redis', close: () => void order.push('redis') },
      ],
    });
    shutdown.addCloser('tracing', async () => {
      await sleep(20);
      order.push('tracing');
    });
    const agent = new Agent({ keepAlive: true, maxSockets: 10 });
    disposers.push(() => agent.destroy());
    // warm one keep-alive socket that will be idle during shutdown
    expect((await fetchVia(agent, `${app.url}/warm`)).status).toBe(200);
    const inflight = Array.from({ length: 5 }, (_, i) => fetchVia(agent, `${app.url}/r${i}`));
    while (app.started() < 6) await sleep(5);

    const t0 = performance.now();
    const done = shutdown.run('test');
    let doneAt = 0;
    void done.then(() => {
      doneAt = performance.now();
    });
    expect(shutdown.run('again')).toBe(done); // idempotent
    expect((await get(health, '/health/ready')).statusCode).toBe(503);
    await sleep(20);
    expect(listening(app.server)).toBe(false); // stopped accepting
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.body)).toEqual(['done /r0', 'done /r1', 'done /r2', 'done /r3', 'done /r4']);
    await done;
    // shutdown waited for the last in-flight request: its 300 ms started in the handler, not at t0
    // (a timer may fire up to 1 ms early against performance.now())
    expect(doneAt - app.lastStartAt()).toBeGreaterThanOrEqual(299);
    // did not wait for the idle keep-alive socket's timeout (5 s)
    expect(doneAt - t0).toBeLessThan(3000);
    expect(order).toEqual(['pg', 'redis', 'tracing']);
    expect(codes).toEqual([0]);
    const count = await new Promise<number>((resolve) => app.server.getConnections((_e, n) => resolve(n)));
    expect(count).toBe(0);
    expect(logger.entries.some((e) => e.msg === 'shutdown: done')).toBe(true);
  });

  it('a request that never finishes: connections destroyed after timeoutMs, exit 1', async () => {
    const app = await appServer(0);
    const codes: number[] = [];
    const shutdown = createShutdown({
      server: app.server,
      timeoutMs: 500,
      signals: false,
      exit: (c) => codes.push(c),
    });
    const agent = new Agent({ keepAlive: true });
    disposers.push(() => agent.destroy());
    const never = fetchVia(agent, `${app.url}/never`).catch((e: Error) => e);
    while (app.started() < 1) await sleep(5);
    const { ms: took, lateMs } = await timedAgainst(500, () => shutdown.run());
    expect(took).toBeGreaterThanOrEqual(495);
    expect(took).toBeLessThan(800 + lateMs);
    expect(await never).toBeInstanceOf(Error); // socket hang up
    expect(codes).toEqual([1]);
  });

  it('a failing or hanging closer does not stop the next ones', async () => {
    const order: string[] = [];
    const codes: number[] = [];
    const logger = memoryLogger();
    const shutdown = createShutdown({
      signals: false,
      timeoutMs: 200,
      logger,
      exit: (c) => codes.push(c),
      closers: [
        {
          name: 'broken',
          close: () => {
            throw new Error('boom');
          },
        },
        { name: 'hangs', close: () => new Promise(() => undefined) },
        { name: 'ok', close: () => void order.push('ok') },
      ],
    });
    await shutdown.run();
    expect(order).toEqual(['ok']);
    expect(codes).toEqual([1]);
    const errors = logger.entries.filter((e) => e.level === 'error').map((e) => e.msg);
    expect(errors).toEqual(['shutdown: closing broken failed', 'shutdown: closing hangs timed out']);
  });

  it('stop() instead of a server (Fastify: app.close)', async () => {
    let stopped = false;
    const health = createHealth({ checks: {} });
    const shutdown = createShutdown({
      health,
      signals: false,
      exit: false,
      stop: async () => {
        await sleep(10);
        stopped = true;
      },
    });
    await shutdown.run();
    expect(stopped).toBe(true);
    expect(health.shuttingDown).toBe(true);
  });

  it('SIGTERM starts it; a second signal exits at once; dispose removes the listeners', async () => {
    const before = process.listenerCount('SIGTERM');
    const codes: number[] = [];
    let release!: () => void;
    const shutdown: Shutdown = createShutdown({
      signals: ['SIGTERM'],
      exit: (c) => codes.push(c),
      closers: [{ name: 'slow', close: () => new Promise<void>((r) => (release = r)) }],
    });
    disposers.push(() => shutdown.dispose());
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    process.emit('SIGTERM', 'SIGTERM');
    await sleep(10);
    process.emit('SIGTERM', 'SIGTERM');
    expect(codes).toEqual([1]);
    release();
    await shutdown.run();
    expect(codes).toEqual([1, 0]);
    shutdown.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('bad options throw coded errors', async () => {
    expect(() => createShutdown({ server: {} as Server, signals: false })).toThrow(
      /DEIA_SHUTDOWN_OPTIONS.*node http.Server/,
    );
    expect(() => createShutdown({ timeoutMs: 0, signals: false })).toThrow(/timeoutMs must be > 0/);
  });

  it('from the start (pre-stop delay included) responses carry Connection: close, in-flight ones too', async () => {
    const app = await appServer(150);
    // a delay far longer than the requests below take on a loaded machine: they all fall in it
    const shutdown = createShutdown({ server: app.server, delayMs: 2000, signals: false, exit: false });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    disposers.push(() => agent.destroy());
    const headersOf = (path: string) =>
      new Promise<string | undefined>((resolve, reject) => {
        const req = httpRequest(`${app.url}${path}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers.connection));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await headersOf('/before')).toBe('keep-alive');
    const inflight = headersOf('/inflight');
    while (app.started() < 2) await sleep(5);
    const done = shutdown.run();
    // during the delay the server still serves, but tells every client to go
    expect(await headersOf('/during-delay')).toBe('close');
    expect(await inflight).toBe('close');
    expect(app.server.listening).toBe(true); // still in the pre-stop delay
    await done;
  });

  it('stop() with server: stop closes it, server is only drained of keep-alive', async () => {
    const app = await appServer(0);
    let stopped = false;
    const shutdown = createShutdown({
      server: app.server,
      stop: async () => {
        stopped = true;
        await new Promise<void>((r) => app.server.close(() => r()));
      },
      signals: false,
      exit: false,
    });
    await shutdown.run();
    expect(stopped).toBe(true);
  });

  it('50 keep-alive connections under load across a shutdown: no request is reset', async () => {
    const app = await appServer(5);
    const shutdown = createShutdown({ server: app.server, delayMs: 200, signals: false, exit: false });
    // Each worker is a keep-alive client that, like a load balancer, stops sending to this
    // instance once told `Connection: close`; every request it writes goes to a socket that
    // was kept alive. A reset means a request was written to a socket about to be destroyed.
    const resets: string[] = [];
    let ok = 0;
    let told = 0;
    let t0 = 0;
    const worker = async () => {
      const agent = new Agent({ keepAlive: true, maxSockets: 1 });
      let n = 0;
      try {
        for (;;) {
          n++;
          const res = await new Promise<{ status: number; connection?: string }>((resolve, reject) => {
            const req = httpRequest(`${app.url}/load`, { agent, method: 'POST' }, (r) => {
              r.resume();
              r.on('end', () => resolve({ status: r.statusCode ?? 0, connection: r.headers.connection }));
            });
            req.on('error', reject);
            req.end('x');
          });
          if (res.status === 200) ok++;
          if (res.connection === 'close') {
            told++;
            return;
          }
        }
      } catch (err) {
        resets.push(
          `${(err as NodeJS.ErrnoException).code ?? (err as Error).message} t=${Math.round(performance.now() - (t0 || performance.now()))} n=${n}`,
        );
      } finally {
        agent.destroy();
      }
    };
    const workers = Array.from({ length: 50 }, worker);
    while (ok < 200) await sleep(5);
    t0 = performance.now();
    await shutdown.run();
    await Promise.all(workers);
    expect(resets).toEqual([]);
    expect(told).toBe(50);
    expect(ok).toBeGreaterThan(200);
  }, 20_000);
});
