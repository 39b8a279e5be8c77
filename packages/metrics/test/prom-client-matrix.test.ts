// The prom-client peer range, proved with real releases: the lowest 15.0, the lowest 15.1 and the
// newest (the workspace's own devDependency), installed side by side as aliases. Each one records
// the same HTTP traffic through the HTTP core; the expositions must be identical, and recording must
// stay on the direct path (no per-request public inc()/observe()) in every version. The successor
// package @prometheus-io/client is the last cell (its engines say Node >= 22; it loads on 20 too).
import { createRequire } from 'node:module';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type PromClientModule, UNMATCHED_ROUTE } from '../src/index.js';
import { type DrivenApp, httpDriver } from './support/http-driver.js';
import { countPublicCalls } from './support/public-calls.js';

const require = createRequire(import.meta.url);
const CELLS = ['prom-client-15-0', 'prom-client-15-1-0', 'prom-client', '@prometheus-io/client'] as const;
const load = (name: string) => ({
  client: require(name) as PromClientModule,
  version: (require(`${name}/package.json`) as { version: string }).version,
});

const APP: DrivenApp = {
  routes: { '/a': '/a', '/b': '/b' },
  respond: (path, res) => res.end(path === '/b' ? 'a longer body' : 'hello'),
};
const driver = httpDriver('matrix');
afterEach(() => driver.close());

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

  const { url, waitFor } = await driver.serve(APP, { metrics });
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
  await waitFor(1 + 3 * script.length);
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
