import { createServer } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { gunzipSync } from 'node:zlib';
import * as client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createHttpObserver, type HttpObserver } from '../src/adapter.js';
import { renderExposition } from '../src/exposition.js';
import { type HttpLabels, type HttpStore, httpStoreOf } from '../src/http-series.js';
import { createClusterAggregator, createMetrics, type Metrics } from '../src/index.js';

const OM = 'application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5';
const TEXT = 'text/plain;version=0.0.4';

const scrape = async (o: HttpObserver, accept = TEXT, encoding = 'identity') => {
  const r = await o.scrape({
    method: 'GET',
    path: '/metrics',
    headers: { accept, 'accept-encoding': encoding },
  });
  const raw = typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(r.body);
  const text = r.headers['content-encoding'] === 'gzip' ? gunzipSync(raw).toString() : raw.toString();
  return { ...r, text };
};

/** The HTTP core's store, to record many series without as many HTTP requests. */
function storeOf(
  m: Metrics,
): Required<Pick<HttpStore, 'requests' | 'duration' | 'requestSize' | 'responseSize'>> {
  const s = httpStoreOf(m);
  if (!s?.requests || !s.duration || !s.requestSize || !s.responseSize) throw new Error('no HTTP store');
  return {
    requests: s.requests,
    duration: s.duration,
    requestSize: s.requestSize,
    responseSize: s.responseSize,
  };
}

/** Records one request of a label set the way the HTTP core does. */
function record(m: Metrics, labels: HttpLabels, seconds = 0.01): void {
  const s = storeOf(m);
  s.requests.seriesFor(labels).value++;
  s.duration.record(s.duration.seriesFor(labels), seconds, false);
  s.requestSize.record(s.requestSize.seriesFor(labels), 0, false);
  s.responseSize.record(s.responseSize.seriesFor(labels), 100, false);
}

function fill(m: Metrics, sets: number): HttpLabels[] {
  const all: HttpLabels[] = [];
  for (let i = 0; i < sets; i++) {
    const labels = { method: 'GET', route: `/api/r${Math.floor(i / 5)}/:id`, status: String(200 + (i % 5)) };
    all.push(labels);
    record(m, labels);
  }
  return all;
}

/** Real traffic through the HTTP core (exemplars too), plus public-API calls on the same metrics. */
async function traffic(m: Metrics, observer: HttpObserver) {
  const server = createServer((req, res) => {
    observer.track(req, res, undefined);
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  for (let i = 0; i < 3; i++) await (await fetch(`http://127.0.0.1:${port}/bots/1`)).text();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const n = (await m.http.requests.metric.get()).values.reduce((s, x) => s + x.value, 0);
    if (n >= 3) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  // the public API on the same metrics: one label set the core has, one it has not
  m.http.requests.inc({ method: 'GET', route: '/bots/:id', status: '200' });
  m.http.requests.inc({ method: 'POST', route: '/public', status: '201' }, 2);
  m.http.duration.observe({ method: 'GET', route: '/bots/:id', status: '200' }, 0.2);
  m.http.duration.observe({ method: 'POST', route: '/public', status: '201' }, 7);
}

describe("/metrics rendered from the SDK's own state", () => {
  it("is byte for byte what the registry's getMetricsAsJSON() renders, default labels included", async () => {
    const m = createMetrics({
      groups: ['http', 'bots'],
      warn: () => {},
      exemplars: () => ({ trace_id: '4bf92f3577b34da6a3ce929d0e0e4736' }),
      defaultLabels: { service: 'svc "quoted" \\ back\nslash', env: 'prod' },
    });
    const observer = createHttpObserver({ metrics: m }, () => '/bots/:id');
    await traffic(m, observer);
    m.bots.recordRestart('b-1');
    m.bots.setResources('b-1', { cpuRatio: 0.5 });
    for (const accept of [TEXT, OM]) {
      const json = await m.registry.getMetricsAsJSON();
      const expected = renderExposition(json as never, accept === OM ? 'openmetrics' : 'text');
      expect((await scrape(observer, accept)).text).toBe(expected);
      expect((await scrape(observer, accept, 'gzip')).text).toBe(expected);
    }
    const text = (await scrape(observer)).text;
    expect(text).toContain(
      'http_requests_total{method="GET",route="/bots/:id",status="200",service="svc \\"quoted\\" \\\\ back\\nslash",env="prod"} 4',
    );
    expect(text).toContain('http_requests_total{method="POST",route="/public",status="201",service=');
    await observer.close();
  });

  it('applies default labels a user sets on their own registry, before or after createMetrics', async () => {
    const registry = new client.Registry();
    registry.setDefaultLabels({ region: 'eu' });
    const m = createMetrics({ registry, groups: ['http'], warn: () => {} });
    const observer = createHttpObserver({ metrics: m }, () => '/x');
    record(m, { method: 'GET', route: '/x', status: '200' });
    const expected = async () => renderExposition((await registry.getMetricsAsJSON()) as never, 'text');
    let text = (await scrape(observer)).text;
    expect(text).toBe(await expected());
    expect(text).toContain('http_requests_total{method="GET",route="/x",status="200",region="eu"} 1');
    // changed later: the next scrape has the new ones (the label texts made with the old go)
    registry.setDefaultLabels({ region: 'us', zone: 'b' });
    text = (await scrape(observer)).text;
    expect(text).toBe(await expected());
    expect(text).toContain(
      'http_requests_total{method="GET",route="/x",status="200",region="us",zone="b"} 1',
    );
    expect(text).not.toContain('region="eu"');
    // and a series' own label of the same name wins
    registry.setDefaultLabels({ status: 'never' });
    text = (await scrape(observer)).text;
    expect(text).toBe(await expected());
    expect(text).toContain('http_requests_total{method="GET",route="/x",status="200"} 1');
    // the probe that reads them is never left in the registry
    expect(registry.getMetricsAsArray().some((x) => x.name.includes('probe'))).toBe(false);
    await observer.close();
  });

  it('yields to the event loop while it renders a large registry (timers fire during one scrape)', async () => {
    const m = createMetrics({ groups: ['http'], warn: () => {}, defaultLabels: { service: 's' } });
    fill(m, 5000);
    const observer = createHttpObserver({ metrics: m }, () => '/x');
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    const immediates = { n: 0, on: true };
    const spin = () => {
      if (!immediates.on) return;
      immediates.n++;
      setImmediate(spin);
    };
    setImmediate(spin);
    const before = { ticks, immediates: immediates.n };
    const r = await scrape(observer);
    const during = { ticks: ticks - before.ticks, immediates: immediates.n - before.immediates };
    clearInterval(timer);
    immediates.on = false;
    expect(r.statusCode).toBe(200);
    expect(r.text.split('\n').length).toBeGreaterThan(5000 * 30);
    // a synchronous render lets no callback of the event loop run until it is done
    expect(during.immediates).toBeGreaterThan(2);
    await observer.close();
  });

  it('copies the values first: a request recorded mid-scrape leaves the body consistent', async () => {
    const m = createMetrics({ groups: ['http'], warn: () => {} });
    const sets = fill(m, 3000);
    const observer = createHttpObserver({ metrics: m }, () => '/x');
    const hot = sets[0] as HttpLabels;
    let recorded = 0;
    let on = true;
    const busy = () => {
      if (!on) return;
      record(m, hot, 100); // +Inf bucket only
      recorded++;
      setImmediate(busy);
    };
    setImmediate(busy);
    const { text } = await scrape(observer);
    on = false;
    expect(recorded).toBeGreaterThan(1); // requests were recorded while it rendered
    const sel = '{method="GET",route="/api/r0/:id",status="200"}';
    const value = (line: string) => {
      const l = text.split('\n').find((x) => x.startsWith(line));
      if (l === undefined) throw new Error(`no ${line} in the body`);
      return Number(l.slice(line.length + 1));
    };
    const total = value(`http_requests_total${sel}`);
    const count = value(`http_request_duration_seconds_count${sel}`);
    const inf = value(`http_request_duration_seconds_bucket{le="+Inf",${sel.slice(1)}`);
    const sizeCount = value(`http_response_size_bytes_count${sel}`);
    expect(count).toBe(inf);
    expect(total).toBe(count);
    expect(sizeCount).toBe(count);
    await observer.close();
  });
});

describe('/metrics limits', () => {
  it('answers 503 to scrapes beyond metricsMaxInFlight, and serves again once they are done', async () => {
    const m = createMetrics({ groups: ['http'], warn: () => {} });
    fill(m, 3000);
    const observer = createHttpObserver({ metrics: m, metricsMaxInFlight: 1 }, () => '/x');
    const [a, b] = await Promise.all([scrape(observer), scrape(observer)]);
    expect(a.statusCode).toBe(200);
    expect(b.statusCode).toBe(503);
    expect(b.headers['retry-after']).toBe('1');
    expect(b.text).toMatch(/too many concurrent scrapes \(limit 1\)/);
    expect((await scrape(observer)).statusCode).toBe(200);
    await observer.close();
  });

  it('answers 503 and logs when rendering outlives metricsTimeoutMs, or a metric never answers', async () => {
    const m = createMetrics({ groups: ['http'], warn: () => {} });
    fill(m, 5000);
    const errors: string[] = [];
    const logger = { info() {}, error: (_o: object, msg?: string) => errors.push(msg ?? '') };
    const observer = createHttpObserver({ metrics: m, metricsTimeoutMs: 1, logger }, () => '/x');
    const late = await scrape(observer);
    expect(late.statusCode).toBe(503);
    expect(late.text).toMatch(/longer than 1 ms/);
    expect(errors).toEqual(['@deia/metrics: /metrics answered 503']);
    await observer.close();

    // a collector that hangs: the timer answers, and the slot is free again
    const small = createMetrics({ registry: new client.Registry(), groups: ['http'], warn: () => {} });
    const hang = {
      name: 'hangs',
      help: 'h',
      type: 'gauge',
      aggregator: 'sum',
      reset() {},
      get: () => new Promise(() => {}),
    };
    small.registry.registerMetric(hang);
    const o2 = createHttpObserver(
      { metrics: small, metricsTimeoutMs: 50, metricsMaxInFlight: 1, logger },
      () => '/x',
    );
    expect((await scrape(o2)).statusCode).toBe(503);
    small.registry.removeSingleMetric('hangs');
    expect((await scrape(o2)).statusCode).toBe(200);
    await o2.close();
  });

  it('rejects bad limits with the option named', () => {
    const m = createMetrics({ groups: ['http'], warn: () => {} });
    expect(() => createHttpObserver({ metrics: m, metricsMaxInFlight: 0 }, () => '/x')).toThrow(
      /metricsMaxInFlight/,
    );
    expect(() => createHttpObserver({ metrics: m, metricsTimeoutMs: -1 }, () => '/x')).toThrow(
      /metricsTimeoutMs/,
    );
    expect(() =>
      createHttpObserver({ metrics: m, metricsTimeoutMs: 5, metricsPath: false }, () => '/x'),
    ).toThrow(/metricsTimeoutMs is set but metricsPath is false/);
    expect(() => createClusterAggregator({ maxInFlight: 0 })).toThrow(/maxInFlight must be an integer >= 1/);
  });
});

describe('memory', () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const heap = () => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };

  it('keeps one label text per label set: scrapes and changed default labels do not grow the heap', async () => {
    const registry = new client.Registry();
    const m = createMetrics({ registry, groups: ['http'], warn: () => {} });
    const sets = 2000;
    fill(m, sets);
    const observer = createHttpObserver({ metrics: m }, () => '/x');
    // the body is a Buffer (outside the JS heap): what stays on the heap is the SDK's
    const only = async (accept = TEXT, encoding = 'identity') => {
      const r = await observer.scrape({
        method: 'GET',
        path: '/metrics',
        headers: { accept, 'accept-encoding': encoding },
      });
      expect(r.statusCode).toBe(200);
    };
    const before = heap();
    await only();
    const afterOne = heap();
    for (let i = 0; i < 8; i++) {
      registry.setDefaultLabels({ service: `svc-${i}` });
      await only(i % 2 ? OM : TEXT, 'gzip');
    }
    const afterMany = heap();
    // the texts of one scrape: at most ~250 bytes per label set, and no more after nine scrapes
    expect(afterOne - before).toBeLessThan(sets * 250);
    expect(afterMany - afterOne).toBeLessThan(sets * 250);
    // dropped series take their texts with them
    registry.resetMetrics();
    await only();
    expect(heap()).toBeLessThan(afterMany);
    await observer.close();
  });
});
