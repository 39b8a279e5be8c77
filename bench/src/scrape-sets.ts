/**
 * The label sets both scrape benchmarks (scrape-child.ts, scrape-cluster-child.ts) fill: `sets / 5`
 * route templates x 5 statuses, all GET; the floor4 registry that holds them, and the deia side's
 * recording of them through the HTTP core from real requests.
 */
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type createMetrics, HTTP_LATENCY_BUCKETS, SIZE_BUCKETS } from '@deia/metrics';
import { createHttpObserver } from '@deia/metrics/adapter';
import * as client from 'prom-client';

export const STATUSES = [200, 201, 400, 404, 500];
/** The route template of label set `i`. */
export const routeOf = (i: number) => `/api/r${Math.floor(i / STATUSES.length)}/:id`;
/** The status of label set `i`. */
export const statusOf = (i: number) => STATUSES[i % STATUSES.length] as number;
/** The README's default labels. */
export const DEFAULT_LABELS = { service: 'bot-controller', env: 'production' };

/**
 * floor4: hand-written prom-client with the catalog's four HTTP families and buckets and default
 * metrics, holding `sets` label sets.
 */
export function floorRegistry(sets: number): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'];
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'HTTP requests.',
    labelNames,
    registers: [registry],
  });
  const hist = (name: string, buckets: readonly number[]) =>
    new client.Histogram({ name, help: 'h', labelNames, buckets: [...buckets], registers: [registry] });
  const duration = hist('http_request_duration_seconds', HTTP_LATENCY_BUCKETS);
  const reqSize = hist('http_request_size_bytes', SIZE_BUCKETS);
  const resSize = hist('http_response_size_bytes', SIZE_BUCKETS);
  for (let i = 0; i < sets; i++) {
    const labels = { method: 'GET', route: routeOf(i), status: String(statusOf(i)) };
    requests.inc(labels);
    duration.observe(labels, 0.003);
    reqSize.observe(labels, 0);
    resSize.observe(labels, 100);
  }
  return registry;
}

/**
 * Records `sets` label sets through the HTTP core: real requests (`concurrency` kept-alive
 * sockets) to a plain node:http server tracked by an HTTP observer on `metrics`.
 */
export async function recordThroughCore(
  metrics: ReturnType<typeof createMetrics>,
  sets: number,
  concurrency: number,
): Promise<void> {
  const observer = createHttpObserver(
    { metrics, maxRoutes: Math.ceil(sets / STATUSES.length) + 1 },
    (ctx) => ctx as string,
  );
  const server: Server = createServer((req, res) => {
    const [, , r, s] = (req.url ?? '').split('/'); // /api/r<n>/<status>
    observer.track(req, res, `/api/${r}/:id`);
    res.statusCode = Number(s);
    res.end('x'.repeat(100));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const get = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const path = `/api/r${Math.floor(i / STATUSES.length)}/${statusOf(i)}`;
      request({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < sets) {
        const i = next++;
        // a kept-alive socket the server closed meanwhile resets: once more on a new one
        await get(i).catch(() => get(i));
      }
    }),
  );
  agent.destroy();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  await observer.close();
}
