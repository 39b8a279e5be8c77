import { gunzipSync } from 'node:zlib';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpObserver, foldMethod, PATH_EXCLUDED, PATH_RECORD, PATH_SERVED } from '../src/adapter.js';
import { createMetrics, DeiaMetricsError, UNMATCHED_ROUTE } from '../src/index.js';
import { type DrivenApp, type DriverOptions, httpDriver } from './support/http-driver.js';
import { countPublicCalls } from './support/public-calls.js';

// The route is whatever the handler table matched; /d streams its body in two writes.
const APP: DrivenApp = {
  routes: { '/a': '/a', '/b': '/b', '/c': '/c', '/d': '/d' },
  respond: (path, res) => {
    if (path === '/d') {
      res.write('streamed');
      setTimeout(() => res.end('!'), 5);
    } else res.end('hello');
  },
};
const driver = httpDriver('test');
afterEach(() => driver.close());
const serve = (options: DriverOptions = {}) => driver.serve(APP, options);

describe('label rules', () => {
  it('folds unknown methods into "other" and keeps the known ones', () => {
    expect(foldMethod('GET')).toBe('GET');
    expect(foldMethod('HEAD')).toBe('HEAD');
    expect(foldMethod('PROPFIND')).toBe('other');
    expect(foldMethod('get')).toBe('other');
    expect(foldMethod(undefined)).toBe('other');
  });

  it('records method, route template, status and sizes; unmatched share one route', async () => {
    const { metrics, url, waitFor } = await serve();
    await (await fetch(`${url}/a?x=1`)).text();
    await (await fetch(`${url}/a`, { method: 'POST', body: 'abcdef' })).text();
    await (await fetch(`${url}/zzz/1`)).text();
    await (await fetch(`${url}/zzz/2`, { method: 'PROPFIND' })).text();
    await (await fetch(`${url}/a`, { method: 'HEAD' })).text();
    await (await fetch(`${url}/d`)).text();
    await waitFor(6);
    const text = await metrics.registry.metrics();
    expect(text).toContain('http_requests_total{method="GET",route="/a",status="200"} 1');
    expect(text).toContain('http_requests_total{method="POST",route="/a",status="200"} 1');
    expect(text).toContain(`http_requests_total{method="GET",route="${UNMATCHED_ROUTE}",status="404"} 1`);
    expect(text).toContain(`http_requests_total{method="other",route="${UNMATCHED_ROUTE}",status="404"} 1`);
    expect(text).toContain('http_requests_total{method="HEAD",route="/a",status="200"} 1');
    expect(text).toContain('http_request_size_bytes_sum{method="POST",route="/a",status="200"} 6');
    expect(text).toContain('http_response_size_bytes_sum{method="GET",route="/a",status="200"} 5');
    expect(text).toContain('http_response_size_bytes_sum{method="HEAD",route="/a",status="200"} 0');
    // streamed (chunked): bytes written minus the header block, chunk framing included
    const streamed = Number(
      /http_response_size_bytes_sum\{method="GET",route="\/d",status="200"\} (\d+)/.exec(text)?.[1],
    );
    expect(streamed).toBeGreaterThanOrEqual(9);
    expect(streamed).toBeLessThan(40);
    expect(text).toContain('http_requests_in_flight 0');
  });

  it('keeps exact counts through resetMetrics() and remove() (series cache updates entries in place)', async () => {
    const { metrics, url, waitFor } = await serve();
    for (let i = 0; i < 3; i++) await (await fetch(`${url}/a`)).text();
    await waitFor(3);
    metrics.registry.resetMetrics();
    for (let i = 0; i < 2; i++) await (await fetch(`${url}/a`)).text();
    await waitFor(2);
    metrics.http.duration.metric.remove({ method: 'GET', route: '/a', status: '200' });
    await (await fetch(`${url}/a`)).text();
    await waitFor(3);
    const json = await metrics.registry.getMetricsAsJSON();
    const values = (name: string) =>
      (json.find((m) => m.name === name)?.values ?? []) as Array<{
        metricName?: string;
        value: number;
        labels: { le?: number };
      }>;
    expect(values('http_requests_total')[0]?.value).toBe(3);
    const duration = values('http_request_duration_seconds');
    expect(duration.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(1);
    const size = values('http_response_size_bytes');
    expect(size.find((v) => v.metricName?.endsWith('_count'))?.value).toBe(3);
    expect(size.find((v) => v.metricName?.endsWith('_sum'))?.value).toBe(15);
    // buckets are cumulative as prom-client renders them: 5 bytes is in every bucket from le=100
    expect(size.find((v) => v.labels.le === 100)?.value).toBe(3);
    expect(size.find((v) => v.labels.le === 10_000_000)?.value).toBe(3);
  });

  it('stays on the direct path when app code or a second observer created the series first', async () => {
    // The only other way a request reaches the series is the handles' public inc()/observe().
    const metrics = createMetrics({ groups: ['http'] });
    const publicCalls = countPublicCalls(metrics);
    {
      const labels = { method: 'GET', route: '/a', status: '200' };
      metrics.http.requests.inc(labels); // app code first
      metrics.http.duration.observe(labels, 0.001);
      const first = await serve({ metrics });
      const second = await serve({ metrics }); // a second observer on the same metrics
      for (let i = 0; i < 20; i++) {
        await (await fetch(`${first.url}/a`)).text();
        await (await fetch(`${second.url}/a`)).text();
      }
      await first.waitFor(41);
      expect(publicCalls.count).toBe(2);
      expect(metrics.registry.getSingleMetric('http_requests_total')).toBe(metrics.http.requests.metric);
      const text = await metrics.registry.metrics();
      // one series, app and both observers summed
      expect(text).toContain('http_requests_total{method="GET",route="/a",status="200"} 41\n');
      expect(text).toContain(
        'http_request_duration_seconds_count{method="GET",route="/a",status="200"} 41\n',
      );
      expect(text).toContain('http_response_size_bytes_count{method="GET",route="/a",status="200"} 40\n');
      expect(text.match(/^http_requests_total\{/gm)).toHaveLength(1);
      // the registered metric is a view: getMetricsAsJSON (what cluster workers send) agrees
      const json = await metrics.registry.getMetricsAsJSON();
      const req = json.find((m) => m.name === 'http_requests_total');
      expect(req?.values).toEqual([{ labels, value: 41 }]);
      expect(req?.aggregator).toBe('sum');
    }
  });

  it('caps distinct routes at maxRoutes, then records __overflow__, warns once and counts them', async () => {
    const warnings: object[] = [];
    const messages: string[] = [];
    const logger = {
      info() {},
      warn: (o: object, m?: string) => {
        warnings.push(o);
        messages.push(String(m));
      },
    };
    const { metrics, url, waitFor } = await serve({ maxRoutes: 2, logger });
    for (const p of ['/a', '/b', '/c', '/d', '/c']) await (await fetch(url + p)).text();
    await waitFor(5);
    const text = await metrics.registry.metrics();
    expect(text).toContain('http_requests_total{method="GET",route="/a",status="200"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="/b",status="200"} 1');
    expect(text).toContain('http_requests_total{method="GET",route="__overflow__",status="200"} 3');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toEqual({ maxRoutes: 2, route: '/c' });
    expect(messages[0]).toMatch(
      /3 route templates seen, more than maxRoutes \(2\).*Raise the maxRoutes option/,
    );
    // two distinct templates (/c, /d) went to __overflow__: an alert can see it
    expect(text).toContain('http_routes_overflowed 2\n');
  });

  it("logs route overflow through createMetrics' logger when the adapter has none, and its growth", async () => {
    const lines: Array<[Record<string, unknown>, string]> = [];
    const logger = { warn: (o: object, m: string) => lines.push([o as Record<string, unknown>, m]) };
    const metrics = createMetrics({ groups: ['http'], logger });
    const routes: Record<string, string> = {};
    for (let i = 0; i < 12; i++) routes[`/r${i}`] = `/r${i}`;
    const { url, waitFor } = await driver.serve({ routes }, { metrics, maxRoutes: 1 });
    for (let i = 0; i < 12; i++) await (await fetch(`${url}/r${i}`)).text();
    await waitFor(12);
    // the first template past maxRoutes, then the tenth: a log line each, none in between
    expect(lines.map(([o]) => o)).toEqual([
      { maxRoutes: 1, route: '/r1' },
      { maxRoutes: 1, route: '/r10', overflowed: 10 },
    ]);
    expect(lines[1]?.[1]).toMatch(/10 route templates are now recorded as route="__overflow__"/);
    expect(await metrics.registry.metrics()).toContain('http_routes_overflowed 11\n');
  });

  it('writes an access log line through a pino-compatible logger', async () => {
    const lines: Array<[Record<string, unknown>, string | undefined]> = [];
    const logger = { info: (o: object, m?: string) => lines.push([o as Record<string, unknown>, m]) };
    const { url, waitFor } = await serve({ logger, accessLog: true });
    await (await fetch(`${url}/b`)).text();
    await waitFor(1);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.[0]).toMatchObject({
      method: 'GET',
      route: '/b',
      status: 200,
      aborted: false,
      response_bytes: 5,
    });
    expect(lines[0]?.[0].duration_ms).toBeTypeOf('number');
    expect(lines[0]?.[1]).toBe('request completed');
  });

  it('sums the in-flight count of every observer at scrape time and detaches on close', async () => {
    const metrics = createMetrics({ groups: ['http'] });
    const one = createHttpObserver({ metrics }, () => undefined);
    const two = createHttpObserver({ metrics }, () => undefined);
    const fake = () => ({ on() {} }) as never;
    one.track(fake(), fake(), undefined);
    two.track(fake(), fake(), undefined);
    two.track(fake(), fake(), undefined);
    expect(await metrics.registry.metrics()).toContain('http_requests_in_flight 3');
    await two.close();
    expect(await metrics.registry.metrics()).toContain('http_requests_in_flight 1');
    await one.close();
  });
});

describe('exclusions', () => {
  it('serves metrics and health paths, excludes option paths, RegExps and predicates', () => {
    const metrics = createMetrics({ groups: ['http'] });
    const health = { paths: ['/health', '/health/ready'], handle: () => undefined };
    const o = createHttpObserver({ metrics, health, exclude: ['/ping', /^\/static\//] }, () => undefined);
    expect(o.match('/metrics')).toBe(PATH_SERVED);
    expect(o.match('/health/ready')).toBe(PATH_SERVED);
    expect(o.match('/ping')).toBe(PATH_EXCLUDED);
    expect(o.match('/static/app.js')).toBe(PATH_EXCLUDED);
    expect(o.match('/api')).toBe(PATH_RECORD);
    expect(o.servedPaths).toEqual(['/health', '/health/ready', '/metrics']);
    const p = createHttpObserver({ metrics, exclude: (path) => path.startsWith('/x') }, () => undefined);
    expect(p.match('/xyz')).toBe(PATH_EXCLUDED);
    expect(p.match('/metrics')).toBe(PATH_SERVED);
    expect(p.match('/y')).toBe(PATH_RECORD);
  });

  it('records the request when the predicate throws, and logs it', () => {
    const errors: unknown[] = [];
    const metrics = createMetrics({ groups: ['http'] });
    const o = createHttpObserver(
      {
        metrics,
        exclude: () => {
          throw new Error('bad predicate');
        },
        logger: { info() {}, error: (e) => errors.push(e) },
      },
      () => undefined,
    );
    expect(o.match('/a')).toBe(PATH_RECORD);
    expect(errors).toHaveLength(1);
  });
});

describe('/metrics endpoint', () => {
  const scrape = (url: string, headers: Record<string, string> = {}, method = 'GET') =>
    fetch(`${url}/metrics`, { headers, method });

  it('serves Prometheus text by default, unauthenticated, not cached', async () => {
    const { url } = await serve();
    const res = await scrape(url);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(
      'text/plain; version=0.0.4; charset=utf-8; escaping=underscores',
    );
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.headers.get('vary')).toBe('Accept, Accept-Encoding');
    expect(await res.text()).toContain('# TYPE http_requests_total counter');
    expect((await scrape(url, {}, 'POST')).status).toBe(405);
  });

  it('negotiates OpenMetrics or text 0.0.4 by Accept (q-values), exemplars only in OpenMetrics', async () => {
    const metrics = createMetrics({ groups: ['http'], exemplars: () => ({ trace_id: 'abc123' }) });
    const { url, waitFor } = await serve({ metrics });
    await (await fetch(`${url}/a`)).text();
    await waitFor(1);
    // the Content-Type names the version asked for (0.0.1 when none) and the name escaping used
    const OM = 'application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=underscores';
    const OM_001 = 'application/openmetrics-text; version=0.0.1; charset=utf-8; escaping=underscores';
    const TEXT = 'text/plain; version=0.0.4; charset=utf-8; escaping=underscores';
    // what Prometheus 2.x/3.x sends, and variations
    const cases: Array<[string | undefined, string]> = [
      [undefined, TEXT],
      [
        'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1',
        OM,
      ],
      ['text/plain;version=0.0.4', TEXT],
      ['text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.3', TEXT],
      ['application/openmetrics-text;q=0.3, text/plain;version=0.0.4;q=0.2', OM_001],
      ['application/openmetrics-text;version=2.0.0, text/plain;q=0.1', TEXT],
      ['application/openmetrics-text;q=0, text/plain', TEXT],
      ['application/json', TEXT],
    ];
    const bodies: Record<string, string> = {};
    for (const [accept, type] of cases) {
      const res = await scrape(url, accept ? { accept } : {});
      expect(res.headers.get('content-type'), String(accept)).toBe(type);
      bodies[type] = await res.text();
    }
    const om = bodies[OM] as string;
    const text = bodies[TEXT] as string;
    expect(om).toMatch(
      /http_request_duration_seconds_bucket\{[^}]*route="\/a"[^}]*\} 1 # \{trace_id="abc123"\} [\d.e-]+ \d+(\.\d+)?\n/,
    );
    expect(om.endsWith('# EOF\n')).toBe(true);
    expect(om).toContain(
      '# TYPE http_requests counter\nhttp_requests_total{method="GET",route="/a",status="200"} 1\n',
    );
    expect(text).not.toContain('#  {');
    expect(text).not.toMatch(/ # \{/);
    expect(text).not.toContain('# EOF');
    // the same series either way
    const samples = (body: string) =>
      body
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.replace(/ # \{.*$/, ''))
        .sort();
    expect(samples(om)).toEqual(samples(text));
    // rendering one format never changes the other (prom-client renames counters in place)
    expect(await (await scrape(url)).text()).toBe(text);
  });

  it('gzips bodies of 4 KiB or more when the client accepts gzip', async () => {
    const { url, waitFor } = await serve();
    for (const p of ['/a', '/b', '/c']) await (await fetch(url + p)).text();
    await waitFor(3);
    const { request } = await import('node:http');
    const get = (encoding: string) =>
      new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
        request(`${url}/metrics`, { headers: { 'accept-encoding': encoding } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        })
          .on('error', reject)
          .end();
      });
    const plain = await get('identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.length).toBeGreaterThan(4096);
    for (const enc of ['gzip', 'deflate, gzip;q=0.5', '*']) {
      const zipped = await get(enc);
      expect(zipped.headers['content-encoding'], enc).toBe('gzip');
      expect(gunzipSync(zipped.body).toString()).toBe(plain.body.toString());
      expect(zipped.body.length).toBeLessThan(plain.body.length / 4);
    }
    expect((await get('gzip;q=0')).headers['content-encoding']).toBeUndefined();
  });

  it('ignores a trailing slash on its own paths', async () => {
    const health = {
      paths: ['/health'],
      handle: (r: { path: string }) =>
        r.path === '/health' ? Promise.resolve({ statusCode: 200, headers: {}, body: 'ok' }) : undefined,
    };
    const { url, observer } = await serve({ health });
    expect(observer.match('/metrics/')).toBe(PATH_SERVED);
    expect(observer.match('/health/')).toBe(PATH_SERVED);
    expect(observer.match('/a/')).toBe(PATH_RECORD);
    expect((await fetch(`${url}/metrics/`)).status).toBe(200);
    expect(await (await fetch(`${url}/health/`)).text()).toBe('ok');
  });

  it('checks a bearer token', async () => {
    const { url } = await serve({ metricsAuth: { token: 's3cret-token' } });
    const missing = await scrape(url);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
    expect((await scrape(url, { authorization: 'Bearer wrong' })).status).toBe(401);
    expect((await scrape(url, { authorization: 'Basic s3cret-token' })).status).toBe(401);
    expect((await scrape(url, { authorization: 'Bearer s3cret-token' })).status).toBe(200);
    expect((await scrape(url, { authorization: 'bearer s3cret-token' })).status).toBe(200);
  });

  it('checks basic credentials', async () => {
    const { url } = await serve({ metricsAuth: { username: 'prom', password: 'pa:ss' } });
    const good = `Basic ${Buffer.from('prom:pa:ss').toString('base64')}`;
    const bad = `Basic ${Buffer.from('prom:nope').toString('base64')}`;
    const res = await scrape(url);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="metrics"');
    expect((await scrape(url, { authorization: bad })).status).toBe(401);
    expect((await scrape(url, { authorization: good })).status).toBe(200);
  });

  it('serves on its own port with metricsPort, not on the app', async () => {
    const { observer, url } = await serve({
      metricsPort: 0,
      metricsHost: '127.0.0.1',
      metricsAuth: { token: 't' },
    });
    expect(observer.metricsPath).toBe(false);
    expect(observer.servedPaths).toEqual([]);
    expect(observer.match('/metrics')).toBe(PATH_EXCLUDED);
    const address = await observer.listen();
    expect(address?.port).toBeGreaterThan(0);
    const own = `http://127.0.0.1:${address?.port}`;
    expect((await fetch(`${own}/metrics`, { headers: { authorization: 'Bearer t' } })).status).toBe(200);
    expect((await fetch(`${own}/metrics`)).status).toBe(401);
    expect((await fetch(`${own}/other`)).status).toBe(404);
    expect((await fetch(`${url}/metrics`)).status).toBe(404);
    await observer.close();
    expect(observer.metricsAddress()).toBeUndefined();
  });

  it('renders any metrics source (e.g. a cluster aggregator) and contains its failures', async () => {
    const errors: unknown[] = [];
    let fail = false;
    const metricsSource = {
      contentType: 'text/plain; version=0.0.4; charset=utf-8',
      metrics: async () => {
        if (fail) throw new Error('worker timeout');
        return 'up 1\n';
      },
    };
    const { url } = await serve({ metricsSource, logger: { info() {}, error: (e) => errors.push(e) } });
    expect(await (await scrape(url)).text()).toBe('up 1\n');
    fail = true;
    expect((await scrape(url)).status).toBe(500);
    expect(errors).toHaveLength(1);
  });
});

describe('options', () => {
  it('throws a coded error naming the option', () => {
    const metrics = createMetrics({ groups: ['http'] });
    const attempt = (o: unknown) => () => createHttpObserver(o as never, () => undefined, 'here');
    expect(attempt(undefined)).toThrow(DeiaMetricsError);
    expect(attempt({ metrics, metricsPath: '/metrics?x' })).toThrow(
      /here: metricsPath must be false or a path/,
    );
    expect(attempt({ metrics, metricsPath: false, metricsPort: 9464 })).toThrow(
      /metricsPort is set but metricsPath is false/,
    );
    expect(attempt({ metrics, health: { paths: ['/metrics'], handle() {} } })).toThrow(/also a health path/);
    expect(attempt({ metrics, metricsSource: {} })).toThrow(/metricsSource must have metrics/);
    expect(attempt({ metrics, metrcsAuth: {} })).toThrow(/did you mean "metricsAuth"/);
  });

  it('works with the http group switched off (serves, records nothing)', async () => {
    const metrics = createMetrics({ groups: ['process'], defaultMetrics: false });
    const { url } = await serve({ metrics });
    expect((await fetch(`${url}/a`)).status).toBe(200);
    expect((await fetch(`${url}/metrics`)).status).toBe(200);
  });
});
