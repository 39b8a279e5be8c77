import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { Express, NextFunction, Request, Response } from 'express';
import { Histogram, Registry } from 'prom-client';
import type { VariantInfo } from '../variants.js';
import { HTTP_LATENCY_BUCKETS, type Inspect, NO_METRICS, type Running, UNMATCHED_ROUTE } from './common.js';

type ExpressModule = typeof import('express');

// Loaded with require (not import) so that OpenTelemetry's require hook can patch express and http
// in the tracing variant; every express variant loads it the same way.
const require = createRequire(import.meta.url);

export function loadExpress(): ExpressModule {
  return require('express') as ExpressModule;
}

type Use = (middleware: (req: Request, res: Response, next: NextFunction) => void) => void;

export function addRoutes(express: ExpressModule, app: Express): void {
  const api = express.Router();
  api.get('/bot/:id', (_req, res) => {
    res.json({ ok: true });
  });
  api.get('/bot/:id/status', (req, res) => {
    res.json({ ok: true, id: req.params.id, status: 'running' });
  });
  api.get('/bots', (_req, res) => {
    res.json({ ok: true, bots: [] });
  });
  app.use('/api', api);
}

/** One 'finish' listener and one histogram observe per request: the least a middleware can do. */
export function floor(use: Use): Inspect {
  const registry = new Registry();
  const histogram = new Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP request duration in seconds.',
    labelNames: ['method', 'route', 'status'],
    buckets: [...HTTP_LATENCY_BUCKETS],
    registers: [registry],
  });
  use((req, res, next) => {
    const start = performance.now();
    res.on('finish', () => {
      const route = req.route ? req.baseUrl + (req.route as { path: string }).path : UNMATCHED_ROUTE;
      histogram.observe(
        { method: req.method, route, status: res.statusCode },
        (performance.now() - start) / 1000,
      );
    });
    next();
  });
  return () => registry.metrics();
}

/** What the DEIA variants return: the exposition, and `attach(server)` as the README does it. */
export type DeiaInspect = Inspect & { attach(server: Server): void };

export async function deia(
  use: Use,
  exemplars?: () => Record<string, string> | undefined,
): Promise<DeiaInspect> {
  const { createMetrics } = await import('@deia/metrics');
  const { deiaExpress } = await import('@deia/express');
  const metrics = exemplars
    ? createMetrics({ exemplars }) // its own OpenMetrics registry
    : createMetrics({ registry: new Registry() });
  const middleware = deiaExpress({ metrics });
  use(middleware);
  // the README's set-up: deia.attach(app.listen(...)) (measuring starts on the server's 'request')
  return Object.assign(() => metrics.registry.metrics(), {
    attach: (server: Server) => {
      middleware.attach(server);
    },
  });
}

export async function promBundle(use: Use): Promise<Inspect> {
  const { default: bundle } = await import('express-prom-bundle');
  const registry = new Registry();
  // Same labels as the others (method, path, status); everything else at its defaults.
  use(bundle({ includeMethod: true, includePath: true, includeStatusCode: true, promRegistry: registry }));
  return () => registry.metrics();
}

export async function promster(use: Use): Promise<Inspect> {
  const { createMiddleware, defaultRegister } = await import('@promster/express');
  use(createMiddleware());
  return () => defaultRegister.metrics();
}

/**
 * Tracing on: every request is sampled (sampleRatio 1) and its spans go through the
 * BatchSpanProcessor to an exporter that only counts them, so the cost is everything but the
 * OTLP serialization and the network. `startTracing` runs before express is required.
 */
async function startTracingFirst(): Promise<() => number> {
  const { startTracing } = await import('@deia/tracing');
  let exported = 0;
  const countingExporter = {
    export(spans: unknown[], done: (result: { code: number }) => void) {
      exported += spans.length;
      done({ code: 0 });
    },
    shutdown: async () => {},
  };
  startTracing({ serviceName: 'deia-bench', sampleRatio: 1, traceExporter: countingExporter as never });
  return () => exported;
}

async function tracing(use: Use, spans: () => number, withExemplars: boolean): Promise<DeiaInspect> {
  const exemplars = withExemplars ? (await import('@deia/tracing')).traceExemplar : undefined;
  const inspect = await deia(use, exemplars);
  // The exposition plus the exported span count, which the runner checks.
  return Object.assign(async () => `${await inspect()}\n# bench: spans exported ${spans()}\n`, {
    attach: inspect.attach,
  });
}

export async function startExpress(info: VariantInfo): Promise<Running> {
  const spans = info.kind === 'tracing' ? await startTracingFirst() : () => 0;
  const express = loadExpress();
  const app = express();
  const use: Use = (middleware) => app.use(middleware);
  const inspect = await {
    bare: async () => NO_METRICS,
    floor: async () => floor(use),
    deia: () => deia(use),
    tracing: () => tracing(use, spans, info.id.endsWith('+exemplars')),
    peer: () => (info.id === 'express+prom-bundle' ? promBundle(use) : promster(use)),
  }[info.kind]();
  addRoutes(express, app);
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(0, '127.0.0.1', (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  if ('attach' in inspect) (inspect as DeiaInspect).attach(server);
  return { port: (server.address() as AddressInfo).port, inspect };
}
