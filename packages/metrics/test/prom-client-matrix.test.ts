// The prom-client peer range, proved with real releases: the lowest 15.0, the lowest 15.1 and the
// newest (the workspace's own devDependency), installed side by side as aliases. Each one records
// the same HTTP traffic through the HTTP core; the expositions must be identical, and recording must
// stay on the direct path (no per-request public inc()/observe()) in every version. The successor
// package @prometheus-io/client is the last cell (its engines say Node >= 22; it loads on 20 too).
import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  createHttpObserver,
  createMetrics,
  type HttpObserver,
  PATH_RECORD,
  PATH_SERVED,
  type PromClientModule,
  UNMATCHED_ROUTE,
} from '../src/index.js';
import { countPublicCalls } from './support/public-calls.js';

const require = createRequire(import.meta.url);
const CELLS = ['prom-client-15-0', 'prom-client-15-1-0', 'prom-client', '@prometheus-io/client'] as const;
const load = (name: string) => ({
  client: require(name) as PromClientModule,
  version: (require(`${name}/package.json`) as { version: string }).version,
});

const ROUTES: Record<string, string> = { '/a': '/a', '/b': '/b' };
const servers: Server[] = [];
const observers: HttpObserver[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
  for (const o of observers.splice(0)) await o.close();
});

/** Drives one fixed traffic script through a bare node:http server and returns what was recorded. */
async function record(client: PromClientModule) {
  const metrics = createMetrics({
    client,
    registry: new client.Registry(),
    groups: ['http'],
    warn: () => {},
  }); // several copies on purpose
  // Count the handles' public inc()/observe(): the path a request takes when the fast path is off.
  const publicCalls = countPublicCalls(metrics);
  // app code creates one series first (2 public calls), then the observer records into it
  metrics.http.requests.inc({ method: 'GET', route: '/a', status: '200' });
  metrics.http.duration.observe({ method: 'GET', route: '/a', status: '200' }, 0.001);

  const observer = createHttpObserver({ metrics }, (ctx) => ctx as string | undefined, 'matrix');
  observers.push(observer);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const kind = observer.match(path);
    if (kind === PATH_SERVED) {
      void observer.serve({ method: req.method ?? 'GET', path, headers: req.headers })?.then((r) => {
        res.writeHead(r.statusCode, r.headers).end(r.body);
      });
      return;
    }
    const route = ROUTES[path];
    if (kind === PATH_RECORD) observer.track(req, res, route);
    if (!route) res.writeHead(404).end('nope');
    else res.end(path === '/b' ? 'a longer body' : 'hello');
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const script: Array<[string, RequestInit?]> = [
    ['/a'],
    ['/a?x=1'],
    ['/a', { method: 'POST', body: 'abcdef' }],
    ['/b'],
    ['/b', { method: 'DELETE' }],
    ['/a', { method: 'HEAD' }],
    ['/nope/1'],
    ['/nope/2', { method: 'PROPFIND' }],
  ];
  for (let round = 0; round < 3; round++) {
    for (const [path, init] of script) await (await fetch(`${url}${path}`, init)).text();
  }
  const expected = 1 + 3 * script.length;
  for (let i = 0; i < 200; i++) {
    const v = (await metrics.http.requests.metric.get()).values.reduce((s, x) => s + x.value, 0);
    if (v === expected) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const scraped = await (await fetch(`${url}/metrics`)).text();
  return {
    metrics,
    publicCalls: publicCalls.count,
    // durations are wall-clock: keep their series and counts, not their buckets' or sums' values
    lines: scraped
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => l.replace(/^(http_request_duration_seconds_(?:bucket|sum)\{[^}]*\}) .*$/, '$1 <time>')),
  };
}

describe('prom-client 15.0, 15.1.0, newest and @prometheus-io/client: same series, same values, direct path', () => {
  it('installs the versions it claims to test, as distinct modules', () => {
    const cells = CELLS.map(load);
    expect(cells.map((c) => c.version.split('.').slice(0, 2).join('.'))).toEqual([
      '15.0',
      '15.1',
      '15.1',
      '0.16',
    ]);
    expect(new Set(cells.map((c) => c.client.Registry)).size).toBe(CELLS.length);
  });

  it('records identical expositions in every version', async () => {
    const results = [];
    for (const name of CELLS) {
      const { client, version } = load(name);
      const r = await record(client);
      // one public call per app-code call, none per request
      expect({ version, publicCalls: r.publicCalls }).toEqual({ version, publicCalls: 2 });
      expect(r.metrics.registry.getSingleMetric('http_requests_total')).toBe(r.metrics.http.requests.metric);
      results.push({ version, ...r });
    }
    const [first, ...rest] = results;
    if (!first) throw new Error('no cells');
    expect(first.lines).toContain('http_requests_total{method="GET",route="/a",status="200"} 7');
    expect(first.lines).toContain(
      `http_requests_total{method="other",route="${UNMATCHED_ROUTE}",status="404"} 3`,
    );
    expect(first.lines).toContain('http_request_size_bytes_sum{method="POST",route="/a",status="200"} 18');
    expect(first.lines).toContain('http_response_size_bytes_sum{method="GET",route="/b",status="200"} 39');
    expect(first.lines.filter((l) => l.startsWith('http_request_duration_seconds_count{'))).toHaveLength(7);
    for (const r of rest)
      expect({ version: r.version, lines: r.lines }).toEqual({ version: r.version, lines: first.lines });
  });
});
