import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { Histogram, Registry } from 'prom-client';
import type { VariantInfo } from '../variants.js';
import { HTTP_LATENCY_BUCKETS, type Inspect, NO_METRICS, type Running, UNMATCHED_ROUTE } from './common.js';

export async function addRoutes(app: FastifyInstance): Promise<void> {
  await app.register(
    async (api) => {
      api.get('/bot/:id', async () => ({ ok: true }));
      api.get<{ Params: { id: string } }>('/bot/:id/status', async (req) => ({
        ok: true,
        id: req.params.id,
        status: 'running',
      }));
      api.get('/bots', async () => ({ ok: true, bots: [] }));
    },
    { prefix: '/api' },
  );
}

/** One onResponse hook and one histogram observe per request (fastify's own reply timer). */
export function floor(app: FastifyInstance): Inspect {
  const registry = new Registry();
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds.',
    labelNames: ['method', 'route', 'status'],
    buckets: [...HTTP_LATENCY_BUCKETS],
    registers: [registry],
  });
  app.addHook('onResponse', (req, reply, done) => {
    histogram.observe(
      { method: req.method, route: req.routeOptions.url ?? UNMATCHED_ROUTE, status: reply.statusCode },
      reply.elapsedTime / 1000,
    );
    done();
  });
  return () => registry.metrics();
}

export async function deia(app: FastifyInstance): Promise<Inspect> {
  const { createMetrics } = await import('@deia/metrics');
  const { deiaFastify } = await import('@deia/fastify');
  const metrics = createMetrics({ registry: new Registry() });
  await app.register(deiaFastify, { metrics });
  return () => metrics.registry.metrics();
}

export async function fastifyMetrics(app: FastifyInstance, endpoint = '/metrics'): Promise<Inspect> {
  const { default: plugin } = await import('fastify-metrics');
  await app.register(plugin, { endpoint });
  return () => app.metrics.client.register.metrics();
}

export async function promster(app: FastifyInstance): Promise<Inspect> {
  const { plugin, defaultRegister } = await import('@promster/fastify');
  await app.register(plugin);
  return () => defaultRegister.metrics();
}

export async function startFastify(info: VariantInfo): Promise<Running> {
  const app = Fastify({ logger: false });
  const inspect = await {
    bare: async () => NO_METRICS,
    floor: async () => floor(app),
    deia: () => deia(app),
    peer: () => (info.id === 'fastify+fastify-metrics' ? fastifyMetrics(app) : promster(app)),
    tracing: () => Promise.reject(new Error('no fastify tracing variant')),
  }[info.kind]();
  await addRoutes(app);
  await app.listen({ host: '127.0.0.1', port: 0 });
  return { port: (app.server.address() as AddressInfo).port, inspect };
}
