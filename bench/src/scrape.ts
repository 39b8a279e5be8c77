/**
 * Scrape cost: `pnpm --filter @deia/bench bench:scrape`. 200 routes x 5 status codes recorded by
 * the HTTP core (through a real node:http server), then 50 sequential scrapes per variant
 * (median CPU time): a hand-written prom-client floor with the same series (a counter and three
 * histograms per label set, rendered by prom-client), and the DEIA endpoint in both formats,
 * gzipped or not, and with fewer size buckets. Then gzip's CPU against the bytes it saves, per
 * body size. Results are printed as markdown (see docs/benchmarks.md, "Scrape cost").
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { createMetrics, HTTP_LATENCY_BUCKETS, SIZE_BUCKETS } from '@deia/metrics';
import { createHttpObserver } from '@deia/metrics/adapter';
import * as client from 'prom-client';

const ROUTES = 200;
const STATUSES = [200, 201, 400, 404, 500];
const SCRAPES = 50;
const OM = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] as number;
};

// CPU time of this process per scrape (user + system, gzip's thread-pool work included): on a
// shared host it moves far less with other load than wall time does.
async function time(fn: () => Promise<number>): Promise<{ ms: number; bytes: number }> {
  for (let i = 0; i < 3; i++) await fn(); // warm-up
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < SCRAPES; i++) {
    const t = process.cpuUsage();
    bytes = await fn();
    const d = process.cpuUsage(t);
    ms.push((d.user + d.system) / 1000);
  }
  return { ms: median(ms), bytes };
}

function floor() {
  const registry = new client.Registry();
  const labelNames = ['method', 'route', 'status'];
  const requests = new client.Counter({
    name: 'http_requests_total',
    help: 'h',
    labelNames,
    registers: [registry],
  });
  const hist = (name: string, buckets: number[]) =>
    new client.Histogram({ name, help: 'h', labelNames, buckets, registers: [registry] });
  const duration = hist('http_request_duration_seconds', [...HTTP_LATENCY_BUCKETS]);
  const reqSize = hist('http_request_size_bytes', [...SIZE_BUCKETS]);
  const resSize = hist('http_response_size_bytes', [...SIZE_BUCKETS]);
  for (let r = 0; r < ROUTES; r++) {
    for (const status of STATUSES) {
      const labels = { method: 'GET', route: `/api/r${r}/:id`, status: String(status) };
      requests.inc(labels);
      duration.observe(labels, 0.01);
      reqSize.observe(labels, 0);
      resSize.observe(labels, 100);
    }
  }
  return registry;
}

async function deia(buckets?: Record<string, number[]>) {
  const metrics = createMetrics({ groups: ['http'], buckets });
  const observer = createHttpObserver({ metrics, maxRoutes: 256 }, (ctx) => ctx as string);
  const server = createServer((req, res) => {
    const [, r, status] = (req.url ?? '').split('/');
    observer.track(req, res, `/api/${r}/:id`);
    res.statusCode = Number(status);
    res.end('x'.repeat(100));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  for (let r = 0; r < ROUTES; r++) {
    await Promise.all(
      STATUSES.map(async (s) => (await fetch(`http://127.0.0.1:${port}/r${r}/${s}`)).arrayBuffer()),
    );
  }
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  const scrape = (accept: string, encoding: string) => async () => {
    const res = await observer.scrape({
      method: 'GET',
      path: '/metrics',
      headers: { accept, 'accept-encoding': encoding },
    });
    return typeof res.body === 'string' ? Buffer.byteLength(res.body) : res.body.length;
  };
  return { observer, scrape };
}

const kb = (n: number) => `${(n / 1024).toFixed(0)} KB`;
const rows: string[] = [];
const row = (name: string, r: { ms: number; bytes: number }, base: { ms: number }) =>
  rows.push(`| ${name} | ${r.ms.toFixed(1)} | ${(r.ms / base.ms).toFixed(2)}x | ${kb(r.bytes)} |`);
const cpu = () => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};

const f = floor();
const base = await time(async () => Buffer.byteLength(await f.metrics()));
row('prom-client floor, same series (`registry.metrics()`)', base, base);
const d = await deia();
row('DEIA, text 0.0.4', await time(d.scrape('text/plain', 'identity')), base);
row('DEIA, OpenMetrics (what Prometheus asks for)', await time(d.scrape(OM, 'identity')), base);
row('DEIA, OpenMetrics + gzip (Prometheus)', await time(d.scrape(OM, 'gzip')), base);
await d.observer.close();
const few = [100, 10_000, 1_000_000];
const d3 = await deia({ http_request_size_bytes: few, http_response_size_bytes: few });
row('DEIA, 3 size buckets (`buckets` option), OpenMetrics', await time(d3.scrape(OM, 'identity')), base);
row('DEIA, 3 size buckets, OpenMetrics + gzip', await time(d3.scrape(OM, 'gzip')), base);
await d3.observer.close();

console.log(`\n${ROUTES} routes x ${STATUSES.length} statuses, median of ${SCRAPES} sequential scrapes:\n`);
console.log('| variant | CPU ms/scrape | vs floor | body |\n| --- | ---: | ---: | ---: |');
console.log(rows.join('\n'));

// gzip: CPU per scrape against bytes saved, by body size (a real exposition, cut to size)
const sample = await f.metrics();
console.log('\n| body | gzip CPU ms (level 6) | gzipped | saved |\n| ---: | ---: | ---: | ---: |');
for (const size of [512, 1024, 4096, 16_384, 102_400, 1_048_576]) {
  const body = sample.repeat(Math.ceil(size / sample.length)).slice(0, size);
  const ms: number[] = [];
  let out = 0;
  for (let i = 0; i < 30; i++) {
    const t = cpu();
    out = gzipSync(body, { level: 6 }).length;
    ms.push(cpu() - t);
  }
  console.log(
    `| ${size < 1024 ? `${size} B` : kb(size)} | ${median(ms).toFixed(3)} | ${out} B | ${(100 - (out / size) * 100).toFixed(0)}% |`,
  );
}
