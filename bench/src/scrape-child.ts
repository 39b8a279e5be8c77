import type { AddressInfo } from 'node:net';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { createMetrics } from '@deia/metrics';
import * as client from 'prom-client';
import { DEFAULT_LABELS, floorRegistry, recordThroughCore, STATUSES } from './scrape-sets.js';

export type Kind = 'deia' | 'floor';
export type Framework = 'express' | 'fastify';
export type ToChild =
  | { type: 'cpu' }
  | { type: 'heap' }
  | { type: 'eld-start' }
  | { type: 'eld-stop' }
  | { type: 'stop' };
export type FromChild =
  | { type: 'ready'; port: number; heapEmpty: number; heapFilled: number }
  | { type: 'cpu'; ms: number }
  | { type: 'heap'; bytes: number }
  | { type: 'eld'; p99: number; max: number; cpuP99: number; cpuMax: number; cpuClock: string }
  | { type: 'error'; message: string };

/** The benchmark measures cost: a 100,000-set scrape on a loaded host outlives the 10 s default. */
const SCRAPE_TIMEOUT_MS = 300_000;

const gc = (globalThis as { gc?: () => void }).gc;
const heapUsed = () => {
  gc?.();
  gc?.();
  return process.memoryUsage().heapUsed;
};
const send = (m: FromChild) => process.send?.(m);
const gzipAsync = promisify(gzip);

type MetricsHandler = (
  accept: string,
  encoding: string,
) => Promise<{ headers: Record<string, string>; body: string | Uint8Array }>;

function floorHandler(sets: number): MetricsHandler {
  const registry = floorRegistry(sets);
  // what a hand-written /metrics does: one registry, its content type switched per request
  const handler: MetricsHandler = async (accept, encoding) => {
    const om = accept.includes('application/openmetrics-text');
    registry.setContentType(
      (om ? client.Registry.OPENMETRICS_CONTENT_TYPE : client.Registry.PROMETHEUS_CONTENT_TYPE) as never,
    );
    const text = await registry.metrics();
    const headers: Record<string, string> = { 'content-type': registry.contentType };
    if (/\bgzip\b/.test(encoding) && text.length >= 4096) {
      headers['content-encoding'] = 'gzip';
      return { headers, body: await gzipAsync(text, { level: 6 }) };
    }
    return { headers, body: text };
  };
  return handler;
}

async function serve(framework: Framework, kind: Kind, sets: number): Promise<number> {
  let metricsHandler: MetricsHandler | undefined;
  let deiaMetrics: ReturnType<typeof createMetrics> | undefined;
  if (kind === 'floor') metricsHandler = floorHandler(sets);
  else {
    deiaMetrics = createMetrics({ defaultLabels: DEFAULT_LABELS }); // the README's one-liner
    await recordThroughCore(deiaMetrics, sets, 16);
  }
  const maxRoutes = Math.ceil(sets / STATUSES.length) + 1;
  if (framework === 'express') {
    const express = (await import('express')).default;
    const app = express();
    if (deiaMetrics) {
      const { deiaExpress } = await import('@deia/express');
      app.use(deiaExpress({ metrics: deiaMetrics, maxRoutes, metricsTimeoutMs: SCRAPE_TIMEOUT_MS }));
    } else {
      const h = metricsHandler as MetricsHandler;
      app.get('/metrics', async (req, res) => {
        const r = await h(req.headers.accept ?? '', String(req.headers['accept-encoding'] ?? ''));
        res.set(r.headers).end(r.body);
      });
    }
    app.get('/ping', (_req, res) => {
      res.end('ok');
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    return (server.address() as AddressInfo).port;
  }
  const Fastify = (await import('fastify')).default;
  const app = Fastify();
  if (deiaMetrics) {
    const { deiaFastify } = await import('@deia/fastify');
    await app.register(deiaFastify, { metrics: deiaMetrics, maxRoutes, metricsTimeoutMs: SCRAPE_TIMEOUT_MS });
  } else {
    const h = metricsHandler as MetricsHandler;
    app.get('/metrics', async (req, reply) => {
      const r = await h(req.headers.accept ?? '', String(req.headers['accept-encoding'] ?? ''));
      return reply.headers(r.headers).send(r.body);
    });
  }
  app.get('/ping', async () => 'ok');
  await app.listen({ port: 0, host: '127.0.0.1' });
  return (app.server.address() as AddressInfo).port;
}

async function main(): Promise<void> {
  const [framework, kind, setsArg] = process.argv.slice(2) as [Framework, Kind, string];
  const sets = Number(setsArg);
  const heapEmpty = heapUsed();
  const port = await serve(framework, kind, sets);
  const heapFilled = heapUsed();
  let eld: ReturnType<typeof monitorEventLoopDelay> | undefined;
  // Main-thread CPU between two ticks of a 1 ms timer: how long a request that arrived meanwhile
  // waited behind the app's own work, whatever else the machine runs (wall time is not that).
  const threadCpu = (process as { threadCpuUsage?: () => NodeJS.CpuUsage }).threadCpuUsage;
  const cpuNow = () => {
    const c = threadCpu ? threadCpu.call(process) : process.cpuUsage();
    return (c.user + c.system) / 1000;
  };
  let turns: number[] = [];
  let ticker: NodeJS.Timeout | undefined;
  process.on('message', (m: ToChild) => {
    if (m.type === 'cpu') {
      const c = process.cpuUsage();
      send({ type: 'cpu', ms: (c.user + c.system) / 1000 });
    } else if (m.type === 'heap') send({ type: 'heap', bytes: heapUsed() });
    else if (m.type === 'eld-start') {
      eld = monitorEventLoopDelay({ resolution: 1 });
      eld.enable();
      turns = [];
      let last = cpuNow();
      ticker = setInterval(() => {
        const now = cpuNow();
        turns.push(now - last);
        last = now;
      }, 1);
    } else if (m.type === 'eld-stop' && eld) {
      eld.disable();
      clearInterval(ticker);
      // weighted by their length: a request arriving at a random moment lands in a long turn
      // in proportion to its length (a 500 ms block among 1 ms turns is most of the time)
      const sorted = turns.sort((a, b) => b - a);
      const total = sorted.reduce((a, b) => a + b, 0);
      let covered = 0;
      let cpuP99 = 0;
      for (const t of sorted) {
        covered += t;
        cpuP99 = t;
        if (covered >= total * 0.01) break;
      }
      send({
        type: 'eld',
        p99: eld.percentile(99) / 1e6,
        max: eld.max / 1e6,
        cpuP99,
        cpuMax: sorted[0] ?? 0,
        cpuClock: threadCpu ? 'main thread' : 'process',
      });
    } else if (m.type === 'stop') process.exit(0);
  });
  send({ type: 'ready', port, heapEmpty, heapFilled });
}

main().catch((err: unknown) => {
  send({ type: 'error', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  process.exit(1);
});
