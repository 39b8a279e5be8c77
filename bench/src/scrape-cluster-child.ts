/**
 * Cluster mode of the scrape benchmark: a `node:cluster` primary with two workers, each holding the
 * same `sets` HTTP label sets, the primary serving the aggregate on `/metrics` (127.0.0.1, port 0).
 * - `deia`: workers `createMetrics({ defaultLabels })`, series recorded by the HTTP core, and
 *   `shareWithCluster()`; the primary `createClusterAggregator().handle`.
 * - `floor`: hand-written prom-client: workers' floor4 registries through `AggregatorRegistry`,
 *   the primary `clusterMetrics()` (text only: prom-client's aggregate has no OpenMetrics), gzipped
 *   the same way.
 * The runner asks the primary over IPC for `cpu`: the primary's and both workers' CPU time summed.
 */
import cluster, { type Worker } from 'node:cluster';
import { Agent, createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import {
  createClusterAggregator,
  createMetrics,
  HTTP_LATENCY_BUCKETS,
  SIZE_BUCKETS,
  shareWithCluster,
} from '@deia/metrics';
import { createHttpObserver } from '@deia/metrics/adapter';
import * as client from 'prom-client';
import type { FromChild, Kind } from './scrape-child.js';

const STATUSES = [200, 201, 400, 404, 500];
const gzipAsync = promisify(gzip);
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

function floorRegistry(sets: number): client.Registry {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  const labelNames = ['method', 'route', 'status'];
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'h',
    labelNames,
    registers: [registry],
  });
  const hist = (name: string, buckets: readonly number[]) =>
    new client.Histogram({ name, help: 'h', labelNames, buckets: [...buckets], registers: [registry] });
  const d = hist('http_request_duration_seconds', HTTP_LATENCY_BUCKETS);
  const q = hist('http_request_size_bytes', SIZE_BUCKETS);
  const r = hist('http_response_size_bytes', SIZE_BUCKETS);
  for (let i = 0; i < sets; i++) {
    const l = { method: 'GET', route: `/api/r${Math.floor(i / 5)}/:id`, status: String(STATUSES[i % 5]) };
    requests.inc(l);
    d.observe(l, 0.003);
    q.observe(l, 0);
    r.observe(l, 100);
  }
  return registry;
}

async function deiaWorker(sets: number): Promise<void> {
  const metrics = createMetrics({ defaultLabels: { service: 'bot-controller', env: 'production' } });
  const observer = createHttpObserver({ metrics, maxRoutes: sets / 5 + 1 }, (ctx) => ctx as string);
  const server = createServer((req, res) => {
    const [, , r, s] = (req.url ?? '').split('/');
    observer.track(req, res, `/api/${r}/:id`);
    res.statusCode = Number(s);
    res.end('x'.repeat(100));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const agent = new Agent({ keepAlive: true, maxSockets: 8 });
  const get = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const path = `/api/r${Math.floor(i / 5)}/${STATUSES[i % 5]}`;
      request({ host: '127.0.0.1', port, path, agent }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
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
  shareWithCluster(metrics.registry);
}

async function worker(kind: Kind, sets: number): Promise<void> {
  process.on('disconnect', () => process.exit(0));
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'bench-cpu') process.send?.({ type: 'bench-cpu', ms: cpuMs() });
  });
  if (kind === 'floor') {
    client.AggregatorRegistry.setRegistries([floorRegistry(sets)]);
    new client.AggregatorRegistry(); // installs prom-client's worker listener
  } else await deiaWorker(sets);
  process.send?.({ type: 'bench-ready' });
}

function floorServer(): Server {
  const aggregator = new client.AggregatorRegistry();
  const handle = async (encoding: string) => {
    const text = await aggregator.clusterMetrics();
    const headers: Record<string, string> = { 'content-type': aggregator.contentType };
    if (!/\bgzip\b/.test(encoding) || text.length < 4096) return { headers, body: text as string | Buffer };
    headers['content-encoding'] = 'gzip';
    return { headers, body: await gzipAsync(text) };
  };
  return createServer((req, res) => {
    handle(String(req.headers['accept-encoding'] ?? '')).then(
      (r) => res.writeHead(200, r.headers).end(r.body),
      (err: unknown) => res.writeHead(500).end(String(err)), // prom-client's 5 s wait for its workers
    );
  });
}

async function primary(kind: Kind, sets: number): Promise<void> {
  const send = (m: FromChild) => process.send?.(m);
  const workers = [0, 1].map(() =>
    cluster.fork({ BENCH_CLUSTER_KIND: kind, BENCH_CLUSTER_SETS: String(sets) }),
  );
  await Promise.all(
    workers.map(
      (w) =>
        new Promise<void>((resolve, reject) => {
          w.on('message', (m: { type?: string }) => {
            if (m?.type === 'bench-ready') resolve();
          });
          w.once('exit', (code) => reject(new Error(`a worker exited (${code}) before it was ready`)));
        }),
    ),
  );
  let server: Server;
  if (kind === 'deia') {
    const aggregator = createClusterAggregator({ timeoutMs: 60_000 });
    server = createServer((req, res) => void aggregator.handle(req, res));
  } else server = floorServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const workerCpu = (w: Worker) =>
    new Promise<number>((resolve) => {
      const on = (m: { type?: string; ms?: number }) => {
        if (m?.type !== 'bench-cpu') return;
        w.off('message', on);
        resolve(m.ms ?? 0);
      };
      w.on('message', on);
      w.send({ type: 'bench-cpu' });
    });
  process.on('message', (m: { type: string }) => {
    if (m.type === 'cpu') {
      void Promise.all(workers.map(workerCpu)).then((ws) =>
        send({ type: 'cpu', ms: cpuMs() + ws.reduce((a, b) => a + b, 0) }),
      );
    } else if (m.type === 'heap') send({ type: 'heap', bytes: process.memoryUsage().heapUsed });
    else if (m.type === 'stop') {
      for (const w of workers) w.kill();
      process.exit(0);
    }
  });
  send({ type: 'ready', port: (server.address() as AddressInfo).port, heapEmpty: 0, heapFilled: 0 });
}

if (cluster.isPrimary) {
  const [kind, sets] = process.argv.slice(2) as [Kind, string];
  primary(kind, Number(sets)).catch((err: unknown) => {
    process.send?.({ type: 'error', message: String(err) });
    process.exit(1);
  });
} else {
  worker(process.env.BENCH_CLUSTER_KIND as Kind, Number(process.env.BENCH_CLUSTER_SETS)).catch(
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
