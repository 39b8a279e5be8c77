import { execFileSync } from 'node:child_process';
import { Agent, request as httpRequest, type Server } from 'node:http';
import { createServer as createHttpsServer, Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { connect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealth, createShutdown, type Shutdown } from '../src/index.js';
import { get, httpServer, memoryLogger, portOf, sleep, timedAgainst } from './helpers.js';
import { keepAliveLoad } from './keepalive-load.js';

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

  it('keep-alive during the pre-stop delay; once the listener closed, Connection: close (in-flight responses too)', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let started = 0;
    const srv = await httpServer((req, res) => {
      started++;
      req.resume();
      if (req.url === '/held') void held.then(() => res.end('held'));
      else res.end('ok');
    });
    disposers.push(() => srv.close());
    // a delay far longer than the requests below take on a loaded machine: they all fall in it
    const shutdown = createShutdown({ server: srv.server, delayMs: 2000, signals: false, exit: false });
    const agent = new Agent({ keepAlive: true, maxSockets: 4 });
    disposers.push(() => agent.destroy());
    const headersOf = (path: string) =>
      new Promise<string | undefined>((resolve, reject) => {
        const req = httpRequest(`${srv.url}${path}`, { agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.headers.connection));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await headersOf('/before')).toBe('keep-alive');
    const done = shutdown.run();
    // during the delay the server serves as before: a client told to close would reconnect and
    // wait in the accept queue, where the listener's close resets it
    expect(await headersOf('/during-delay')).toBe('keep-alive');
    expect(srv.server.listening).toBe(true);
    const inflight = headersOf('/held');
    while (started < 3) await sleep(5);
    await expect.poll(() => srv.server.listening, { timeout: 10_000 }).toBe(false);
    release();
    expect(await inflight).toBe('close');
    await done;
    await expect(headersOf('/after')).rejects.toThrow(/ECONNREFUSED/);
  });

  it('a keep-alive socket between two requests when the listener closes is not destroyed: its next request is answered', async () => {
    const srv = await httpServer((req, res) => {
      req.resume();
      res.end(`ok ${req.url}`);
    });
    disposers.push(() => srv.close());
    const shutdown = createShutdown({ server: srv.server, signals: false, exit: false });
    const socket = connect(portOf(srv.server), '127.0.0.1');
    disposers.push(() => socket.destroy());
    let received = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      received += d;
    });
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    socket.on('error', () => undefined);
    socket.write('GET /first HTTP/1.1\r\nHost: x\r\n\r\n');
    await expect.poll(() => received, { timeout: 10_000 }).toContain('ok /first');
    expect(received).toMatch(/connection: keep-alive/i);
    // the client is about to send its next request when the shutdown closes the listener
    // (http.Server#close() would destroy this idle socket now and reset that request)
    const done = shutdown.run();
    while (srv.server.listening) await new Promise((r) => setImmediate(r));
    socket.write('GET /second HTTP/1.1\r\nHost: x\r\n\r\n');
    await closed; // the server closes it after the answer
    expect(received).toContain('ok /second');
    expect(received.split('HTTP/1.1 200').length - 1).toBe(2);
    expect(received).toMatch(/connection: close/i);
    await done;
  });

  it('50 keep-alive clients that keep sending across a shutdown with a pre-stop delay: none is reset', async () => {
    const srv = await httpServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    disposers.push(() => srv.close());
    const shutdown = createShutdown({ server: srv.server, delayMs: 1000, signals: false, exit: false });
    const load = keepAliveLoad(`${srv.url}/load`);
    disposers.push(() => load.finish(0));
    await load.warm(500);
    load.mark();
    await shutdown.run();
    // clients keep trying a while after the server is gone: a late reset is counted too
    const result = await load.finish(performance.now() + 300);
    expect(result.resetLog).toEqual([]);
    expect(result.other).toEqual([]);
    expect(result.toldToClose).toBe(50); // each told once, after the listener closed
    expect(result.refused).toBeGreaterThan(0); // then refused: nothing was sent
  }, 30_000);

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

  it('connections still waiting in the accept queue when the listener is to close are served first, not reset', async () => {
    const srv = await httpServer((req, res) => {
      req.resume();
      res.end('ok');
    });
    disposers.push(() => srv.close());
    const shutdown = createShutdown({ server: srv.server, signals: false, exit: false });
    // 50 clients connect at once; Node accepts one waiting connection per event-loop turn, so
    // when the first is answered most still wait in the kernel's accept queue
    const load = keepAliveLoad(`${srv.url}/load`);
    disposers.push(() => load.finish(0));
    await load.warm(1);
    load.mark();
    await shutdown.run();
    const result = await load.finish(performance.now() + 300);
    expect(result.resetLog).toEqual([]);
    expect(result.other).toEqual([]);
    expect(result.toldToClose).toBe(50);
  }, 30_000);

  it('https: a request in flight longer than the idle grace is not cut off; a TLS connection that sends nothing is closed after the grace', async () => {
    // a throwaway self-signed certificate for 127.0.0.1
    const pem = execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-subj',
        '/CN=127.0.0.1',
        '-days',
        '1',
        '-keyout',
        '-',
        '-out',
        '-',
      ],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    let release!: () => void;
    const held = new Promise<void>((r) => {
      release = r;
    });
    let started = 0;
    const server = createHttpsServer({ key: pem, cert: pem }, (req, res) => {
      started++;
      req.resume();
      void held.then(() => res.end('held'));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    disposers.push(() => {
      server.closeAllConnections();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const codes: number[] = [];
    const shutdown = createShutdown({ server, timeoutMs: 5000, signals: false, exit: (c) => codes.push(c) });
    // handshake done, no request: closed by the drain after the grace (else only at timeoutMs)
    const silent = tlsConnect({ port: portOf(server), host: '127.0.0.1', rejectUnauthorized: false });
    silent.on('error', () => undefined);
    disposers.push(() => silent.destroy());
    await new Promise<void>((r) => silent.once('secureConnect', () => r()));
    const answer = new Promise<{ status: number; body: string; connection?: string }>((resolve, reject) => {
      const req = httpsRequest(
        `https://127.0.0.1:${portOf(server)}/held`,
        { rejectUnauthorized: false, agent: new HttpsAgent({ keepAlive: true }) },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (d: string) => {
            body += d;
          });
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body, connection: res.headers.connection }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
    while (started < 1) await sleep(5);
    const done = shutdown.run();
    await expect.poll(() => server.listening, { timeout: 10_000 }).toBe(false);
    await sleep(1500); // longer than the idle grace: nothing arrives on the socket meanwhile
    release();
    expect(await answer).toEqual({ status: 200, body: 'held', connection: 'close' });
    await done;
    expect(codes).toEqual([0]); // drained before timeoutMs: the silent connection was closed
    expect(silent.destroyed || silent.readableEnded).toBe(true);
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
