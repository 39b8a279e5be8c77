import { createRequire } from 'node:module';
import { createHealth } from '@deia/health';
import { createMetrics, UNMATCHED_ROUTE } from '@deia/metrics';
import { describe, expect, it } from 'vitest';
import { deiaFastify } from '../src/index.js';

const require = createRequire(import.meta.url);
const MAJORS = [
  ['fastify 4', 'fastify4'],
  ['fastify 5', 'fastify'],
] as const;

// biome-ignore lint/suspicious/noExplicitAny: one test app for two Fastify majors
type App = any;

async function build(pkg: string, extra: Record<string, unknown> = {}) {
  const metrics = createMetrics({ groups: ['http'] });
  const health = createHealth({ checks: {} });
  const app: App = require(pkg)({ logger: false });
  await app.register(deiaFastify, { metrics, health, ...extra });
  app.get('/api/bots/:id', async (req: { params: { id: string } }) => ({ id: req.params.id }));
  // an encapsulated child context with a prefix: still instrumented (fastify-plugin)
  await app.register(
    async (child: App) => {
      child.get('/items/:itemId', async () => ({ ok: true }));
    },
    { prefix: '/v2/:tenant' },
  );
  await app.ready();
  const count = async () =>
    Object.fromEntries(
      (await metrics.http.requests.metric.get()).values.map((v) => [
        `${v.labels.method} ${v.labels.route} ${v.labels.status}`,
        v.value,
      ]),
    );
  return { app, metrics, health, count };
}

describe.each(MAJORS)('deiaFastify on %s', (_name, pkg) => {
  it('is a named fastify-plugin and records routes with their prefixes', async () => {
    const { app, count, health } = await build(pkg);
    expect(app.hasPlugin('@deia/fastify')).toBe(true);
    expect((await app.inject({ url: '/api/bots/7' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/v2/acme/items/3?x=1' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/wp-login.php' })).statusCode).toBe(404);
    expect((await app.inject({ url: '/api/bots/7', method: 'HEAD' })).statusCode).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect(await count()).toEqual({
      'GET /api/bots/:id 200': 1,
      'GET /v2/:tenant/items/:itemId 200': 1,
      [`GET ${UNMATCHED_ROUTE} 404`]: 1,
      'HEAD /api/bots/:id 200': 1,
    });
    await app.close();
    health.close();
  });

  it('counts what Fastify answers before its hooks run (a URL its router cannot decode: 400), each request once', async () => {
    const metrics = createMetrics({ groups: ['http'] });
    const app: App = require(pkg)({ logger: false });
    await app.register(deiaFastify, { metrics });
    app.get('/api/bots/:id', async (req: { params: { id: string } }) => ({ id: req.params.id }));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const base = `http://127.0.0.1:${app.server.address().port}`;
    // Fastify answers 400 itself, no hook runs; before, the request was not counted at all
    expect((await fetch(`${base}/api/bots/%FF`)).status).toBe(400);
    expect((await fetch(`${base}/api/bots/%E0%A4%A`)).status).toBe(400);
    expect((await fetch(`${base}/api/bots/1`)).status).toBe(200);
    expect((await app.inject({ url: '/api/bots/2' })).statusCode).toBe(200); // no server event: the hook measures
    await app.close();
    const counts = Object.fromEntries(
      (await metrics.http.requests.metric.get()).values.map((v) => [
        `${v.labels.method} ${v.labels.route} ${v.labels.status}`,
        v.value,
      ]),
    );
    // the server's 'request' event and the onRequest hook both see a routed request: counted once
    expect(counts).toEqual({ [`GET ${UNMATCHED_ROUTE} 400`]: 2, 'GET /api/bots/:id 200': 2 });
  });

  it('serves /metrics and health endpoints without recording them', async () => {
    const { app, count, health } = await build(pkg);
    const res = await app.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(
      'text/plain; version=0.0.4; charset=utf-8; escaping=underscores',
    );
    expect(res.body).toContain('# TYPE http_requests_total counter');
    expect((await app.inject({ url: '/metrics', method: 'HEAD' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/metrics', method: 'POST' })).statusCode).toBe(405);
    expect((await app.inject({ url: '/health/live' })).statusCode).toBe(200);
    expect((await app.inject({ url: '/health/ready' })).statusCode).toBe(200);
    await new Promise((r) => setImmediate(r));
    expect(await count()).toEqual({});
    await app.close();
    health.close();
  });

  it('protects /metrics with a token', async () => {
    const { app, health } = await build(pkg, { metricsAuth: { token: 'tok' } });
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(401);
    expect((await app.inject({ url: '/metrics', headers: { authorization: 'Bearer tok' } })).statusCode).toBe(
      200,
    );
    await app.close();
    health.close();
  });

  it('serves /metrics on its own port from onReady to onClose', async () => {
    const { app, health } = await build(pkg, { metricsPort: 0, metricsHost: '127.0.0.1' });
    const address = app.deia.metricsAddress();
    expect(address?.port).toBeGreaterThan(0);
    expect((await app.inject({ url: '/metrics' })).statusCode).toBe(404);
    const res = await fetch(`http://127.0.0.1:${address.port}/metrics`);
    expect(res.status).toBe(200);
    await res.text();
    await app.close();
    expect(app.deia.metricsAddress()).toBeUndefined();
    health.close();
  });

  it('creates the shutdown handle only when asked', async () => {
    const off = await build(pkg);
    expect(off.app.deia.shutdown).toBeUndefined();
    await off.app.close();
    off.health.close();
    const on = await build(pkg, { shutdown: { signals: false, exit: false } });
    expect(typeof on.app.deia.shutdown.run).toBe('function');
    await on.app.deia.shutdown.run('test');
    expect(on.app.server.listening).toBe(false);
    on.health.close();
  });

  it('rejects bad options at register with a coded error', async () => {
    const app: App = require(pkg)();
    await expect(app.register(deiaFastify, { metrics: undefined } as never)).rejects.toMatchObject({
      code: 'DEIA_HTTP_OPTIONS',
    });
    await app.close().catch(() => {});
  });
});
