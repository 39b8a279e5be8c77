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
  const srv = await httpServer((req, res) => {
    started++;
    if (req.url === '/never') return; // never answers
    setTimeout(() => res.end(`done ${req.url}`), delayMs);
  });
  disposers.push(() => srv.close());
  return { ...srv, started: () => started };
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
    expect(shutdown.run('again')).toBe(done); // idempotent
    expect((await get(health, '/health/ready')).statusCode).toBe(503);
    await sleep(20);
    expect(listening(app.server)).toBe(false); // stopped accepting
    const results = await Promise.all(inflight);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(results.map((r) => r.body)).toEqual(['done /r0', 'done /r1', 'done /r2', 'done /r3', 'done /r4']);
    await done;
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(250);
    expect(took).toBeLessThan(1000); // did not wait for keep-alive timeouts
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
    const app = await appServer(0);
    expect(() => createShutdown({ server: app.server, stop: async () => undefined, signals: false })).toThrow(
      /DEIA_SHUTDOWN_OPTIONS.*either server/,
    );
    expect(() => createShutdown({ timeoutMs: 0, signals: false })).toThrow(/timeoutMs must be > 0/);
  });
});
