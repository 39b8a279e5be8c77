// Identical apps on Express 4, 5.1 (with router 2.2.0) and latest 5, and Fastify 4/5, instrumented by
// @deia/express / @deia/fastify.
// Bodies of 404s and errors are made identical so response sizes match across frameworks.
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { deiaExpress } from '@deia/express';
import { deiaFastify } from '@deia/fastify';
import { createHealth, type Health } from '@deia/health';
import { createMetrics, type Metrics } from '@deia/metrics';

const fromExpress = createRequire(new URL('../../packages/express/package.json', import.meta.url));
const fromFastify = createRequire(new URL('../../packages/fastify/package.json', import.meta.url));

/** `express51` is Express 5.1.0 on router 2.2.0 (pinned by an override); `express5` is the newest 5. */
export const VARIANTS = ['express4', 'express51', 'express5', 'fastify4', 'fastify5'] as const;
export type Variant = (typeof VARIANTS)[number];

export interface RunningApp {
  variant: Variant;
  url: string;
  port: number;
  metrics: Metrics;
  health: Health;
  /** The adapter's shutdown handle (when built with `shutdown`). */
  shutdown?: { run(reason?: string): Promise<void> };
  /** Lets every `GET /api/slow` of this app answer (the ones waiting and all later ones). */
  releaseSlow(): void;
  close(): Promise<void>;
}

export interface AppOptions {
  /** Extra adapter options (merged over the defaults). */
  adapter?: Record<string, unknown>;
  /** Enable graceful shutdown (no exit; signals off unless given). */
  shutdown?: boolean | { signals?: NodeJS.Signals[]; delayMs?: number };
}

const NOT_FOUND = { error: 'not found' };
const STREAM_CHUNK = 'x'.repeat(1024);

/**
 * `GET /api/slow` answers only once the test calls `releaseSlow()`: the test decides how long a
 * request stays in flight, not a timer a loaded machine can outrun.
 */
function slowGate(): { wait: Promise<void>; release(): void } {
  let release!: () => void;
  const wait = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { wait, release };
}

const errorStatus = (err: { status?: number; statusCode?: number }) => {
  const s = err.status ?? err.statusCode ?? 500;
  return s >= 400 && s < 600 ? s : 500;
};

export async function startApp(variant: Variant, opts: AppOptions = {}): Promise<RunningApp> {
  const metrics = createMetrics({ groups: ['http'] });
  const health = createHealth({ checks: {} });
  const settings = typeof opts.shutdown === 'object' ? opts.shutdown : {};
  const shutdown = opts.shutdown
    ? { signals: settings.signals ?? false, delayMs: settings.delayMs ?? 0, exit: false, timeoutMs: 5000 }
    : undefined;
  const adapterOptions = { metrics, health, exclude: ['/internal/ping'], ...opts.adapter };
  if (variant.startsWith('express')) {
    return startExpress(variant, metrics, health, adapterOptions, shutdown, slowGate());
  }
  return startFastify(variant, metrics, health, adapterOptions, shutdown, slowGate());
}

async function startExpress(
  variant: Variant,
  metrics: Metrics,
  health: Health,
  options: Record<string, unknown>,
  shutdownOptions: object | undefined,
  slow: { wait: Promise<void>; release(): void },
): Promise<RunningApp> {
  // biome-ignore lint/suspicious/noExplicitAny: two Express majors share one test app
  const express: any = fromExpress(variant === 'express5' ? 'express' : variant);
  // Express 4 recovers mount templates from the URL (its router is private state): naming the
  // param mount gives the same labels as Express 5 and Fastify; without it the id is `#val`
  // (express4-mounts.test.ts). Express 5 reads the mount paths itself and ignores the option.
  const mounts = ['/api/v1/users/:userId'];
  const deia = deiaExpress({ mounts, ...(options as object), shutdown: shutdownOptions } as never);
  const app = express();
  app.use(deia);
  app.use(express.json());
  // biome-ignore lint/suspicious/noExplicitAny: test app
  type H = (req: any, res: any, next: any) => unknown;
  const wrap =
    (fn: H): H =>
    (req, res, next) =>
      Promise.resolve(fn(req, res, next)).catch(next);

  app.get('/api/bots/:id', (req: { params: { id: string } }, res: { json(b: unknown): void }) =>
    res.json({ id: req.params.id }),
  );
  app.post('/api/bots/:id/start', (_req: unknown, res: { json(b: unknown): void }) =>
    res.json({ started: true }),
  );
  const v1 = express.Router();
  const users = express.Router();
  users.get('/posts/:postId', (req: { params: { postId: string } }, res: { json(b: unknown): void }) =>
    res.json({ post: req.params.postId }),
  );
  v1.use('/users/:userId', users);
  v1.get('/throw', () => {
    throw new Error('sync boom');
  });
  app.use('/api/v1', v1);
  app.get('/api/throw', () => {
    throw new Error('sync boom');
  });
  app.get(
    '/api/reject',
    wrap(async () => {
      await new Promise((r) => setTimeout(r, 1));
      throw new Error('async boom');
    }),
  );
  app.get('/api/slow', (_req: unknown, res: { json(b: unknown): void }) => {
    void slow.wait.then(() => res.json({ slow: true }));
  });
  app.get(
    '/api/stream',
    (_req: unknown, res: NodeJS.WritableStream & { on: (e: string, f: () => void) => void }) => {
      res.write(STREAM_CHUNK);
      const t = setTimeout(() => res.end(), 10_000);
      res.on('close', () => clearTimeout(t));
    },
  );
  app.post(
    '/api/upload',
    express.raw({ type: 'application/octet-stream', limit: '8mb' }),
    (req: { body: Buffer }, res: { json(b: unknown): void }) => res.json({ bytes: req.body.length }),
  );
  app.get('/api/large', (_req: unknown, res: { send(b: Buffer): void }) =>
    res.send(Buffer.alloc(2 * 1024 * 1024, 1)),
  );
  app.get('/internal/ping', (_req: unknown, res: { json(b: unknown): void }) => res.json({ ok: true }));
  app.use((_req: unknown, res: { status(s: number): { json(b: unknown): void } }) =>
    res.status(404).json(NOT_FOUND),
  );
  app.use(
    (
      err: { status?: number; statusCode?: number },
      _req: unknown,
      res: { status(s: number): { json(b: unknown): void } },
      _next: unknown,
    ) => res.status(errorStatus(err)).json({ error: 'boom' }),
  );

  const server: Server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', resolve));
  await deia.ready;
  const port = (server.address() as AddressInfo).port;
  const shutdown = shutdownOptions ? deia.attach(server) : undefined;
  return {
    variant,
    url: `http://127.0.0.1:${port}`,
    port,
    metrics,
    health,
    shutdown,
    releaseSlow: slow.release,
    close: async () => {
      slow.release();
      shutdown?.run('test end');
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await deia.close();
      health.close();
    },
  };
}

async function startFastify(
  variant: Variant,
  metrics: Metrics,
  health: Health,
  options: Record<string, unknown>,
  shutdownOptions: object | undefined,
  slow: { wait: Promise<void>; release(): void },
): Promise<RunningApp> {
  // biome-ignore lint/suspicious/noExplicitAny: two Fastify majors share one test app
  const fastify: any = fromFastify(variant === 'fastify4' ? 'fastify4' : 'fastify');
  const app = fastify({ logger: false });
  await app.register(deiaFastify, { ...(options as object), shutdown: shutdownOptions });
  app.addContentTypeParser(
    'application/octet-stream',
    { parseAs: 'buffer', bodyLimit: 8 * 1024 * 1024 },
    (_req: unknown, body: Buffer, done: (e: null, b: Buffer) => void) => done(null, body),
  );
  app.setNotFoundHandler((_req: unknown, reply: { code(s: number): { send(b: unknown): void } }) =>
    reply.code(404).send(NOT_FOUND),
  );
  app.setErrorHandler(
    (
      err: { status?: number; statusCode?: number },
      _req: unknown,
      reply: { code(s: number): { send(b: unknown): void } },
    ) => reply.code(errorStatus(err)).send({ error: 'boom' }),
  );
  app.get('/api/bots/:id', async (req: { params: { id: string } }) => ({ id: req.params.id }));
  app.post('/api/bots/:id/start', async () => ({ started: true }));
  await app.register(
    async (v1: typeof app) => {
      await v1.register(
        async (users: typeof app) => {
          users.get('/posts/:postId', async (req: { params: { postId: string } }) => ({
            post: req.params.postId,
          }));
        },
        { prefix: '/users/:userId' },
      );
      v1.get('/throw', () => {
        throw new Error('sync boom');
      });
    },
    { prefix: '/api/v1' },
  );
  app.get('/api/throw', () => {
    throw new Error('sync boom');
  });
  app.get('/api/reject', async () => {
    await new Promise((r) => setTimeout(r, 1));
    throw new Error('async boom');
  });
  app.get('/api/slow', async () => {
    await slow.wait;
    return { slow: true };
  });
  app.get('/api/stream', (_req: unknown, reply: { send(s: Readable): void }) => {
    let sent = false;
    const stream = new Readable({
      read() {
        if (!sent) {
          sent = true;
          this.push(STREAM_CHUNK);
        }
      },
    });
    reply.send(stream);
  });
  app.post('/api/upload', async (req: { body: Buffer }) => ({ bytes: req.body.length }));
  app.get('/api/large', async (_req: unknown, reply: { type(t: string): unknown }) => {
    reply.type('application/octet-stream');
    return Buffer.alloc(2 * 1024 * 1024, 1);
  });
  app.get('/internal/ping', async () => ({ ok: true }));

  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as AddressInfo).port;
  return {
    variant,
    url: `http://127.0.0.1:${port}`,
    port,
    metrics,
    health,
    shutdown: app.deia.shutdown,
    releaseSlow: slow.release,
    close: async () => {
      slow.release();
      await app.close();
      health.close();
    },
  };
}

/** Series of the HTTP metrics: counter values, histogram counts and size sums, keyed by labels. */
export async function httpSeries(metrics: Metrics): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const m of await metrics.registry.getMetricsAsJSON()) {
    if (!m.name.startsWith('http_')) continue;
    for (const v of m.values as Array<{
      labels: Record<string, string>;
      value: number;
      metricName?: string;
    }>) {
      const name = v.metricName ?? m.name;
      const isCount = name.endsWith('_count');
      const isSizeSum = name.endsWith('_bytes_sum');
      if (String(m.type) === 'histogram' && !isCount && !isSizeSum) continue;
      const l = v.labels;
      const key = l.method ? `${name}{${l.method} ${l.route} ${l.status}}` : name;
      out[key] = v.value;
    }
  }
  return out;
}

/** Waits until `http_requests_total` sums to `n` (responses are recorded on the 'close' event). */
export async function waitForRequests(metrics: Metrics, n: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const json = await metrics.registry.getMetricsAsJSON();
    const total = json
      .find((m) => m.name === 'http_requests_total')
      ?.values.reduce((s, v) => s + (v as { value: number }).value, 0);
    if (total === n) return;
    if (Date.now() > deadline) throw new Error(`expected ${n} recorded requests, have ${total}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
