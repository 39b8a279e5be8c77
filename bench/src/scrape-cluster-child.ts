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
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { createClusterAggregator, createMetrics, shareWithCluster } from '@deia/metrics';
import * as client from 'prom-client';
import type { FromChild, Kind } from './scrape-child.js';
import { DEFAULT_LABELS, floorRegistry, recordThroughCore } from './scrape-sets.js';

const gzipAsync = promisify(gzip);
const cpuMs = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

async function deiaWorker(sets: number): Promise<void> {
  const metrics = createMetrics({ defaultLabels: DEFAULT_LABELS });
  await recordThroughCore(metrics, sets, 8);
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
