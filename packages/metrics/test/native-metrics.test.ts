import * as promClient from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, type MetricDefinition, type MetricsOptions } from '../src/index.js';
import { nativeSourceOf } from '../src/native-contract.js';
import { decodeBuckets } from '../src/native-histogram.js';
import { keyOf } from '../src/native-math.js';
import { httpDriver } from './support/http-driver.js';

const fresh = (opts: MetricsOptions = {}) =>
  createMetrics({ registry: new promClient.Registry(), defaultMetrics: false, warn: () => {}, ...opts });

const familyOf = (registry: object, name: string) => nativeSourceOf(registry)?.nativeFamily(name);
const seriesOf = (registry: object, name: string, match: Record<string, string>) =>
  familyOf(registry, name)?.series.find((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
    ?.native;

const driver = httpDriver('native-test');
afterEach(() => driver.close());

describe('native histograms in createMetrics', () => {
  it('are off by default: no native source, classic buckets as before', async () => {
    const m = fresh({ groups: ['database'] });
    m.db.trackQuery('select', async () => 1);
    await new Promise((r) => setImmediate(r));
    expect(nativeSourceOf(m.registry)).toBeUndefined();
  });

  it('the HTTP core records request durations natively beside the classic buckets', async () => {
    const metrics = fresh({ groups: ['http'], nativeHistogramsFor: { http_request_duration_seconds: true } });
    const app = await driver.serve({ routes: { '/a': '/a' } }, { metrics });
    for (let i = 0; i < 5; i++) await fetch(`${app.url}/a`).then((r) => r.text());
    await fetch(`${app.url}/zzz`).then((r) => r.text());
    await app.waitFor(6);
    const fam = familyOf(metrics.registry, 'http_request_duration_seconds');
    expect(fam?.series).toHaveLength(2);
    const a = seriesOf(metrics.registry, 'http_request_duration_seconds', { route: '/a', status: '200' });
    expect(a?.count).toBe(5);
    expect(a?.schema).toBe(3);
    // count and sum are the classic ones, exactly
    const json = await metrics.http.duration.metric.get();
    const classic = (n: string) =>
      json.values.find((v) => v.metricName === n && v.labels.route === '/a' && v.labels.le === undefined)
        ?.value;
    expect(a?.count).toBe(classic('http_request_duration_seconds_count'));
    expect(a?.sum).toBe(classic('http_request_duration_seconds_sum'));
    const buckets = decodeBuckets(a?.positiveSpans ?? [], a?.positiveDeltas ?? []);
    expect([...buckets.values()].reduce((x, y) => x + y, 0) + (a?.zeroCount ?? 0)).toBe(5);
    // the other HTTP histograms were not asked for
    expect(familyOf(metrics.registry, 'http_request_size_bytes')).toBeUndefined();
    // remove() on the HTTP histogram drops the native series too
    metrics.http.duration.metric.remove({ method: 'GET', route: '/a', status: '200' });
    expect(familyOf(metrics.registry, 'http_request_duration_seconds')?.series).toHaveLength(1);
  });

  it('public-API observations of an HTTP histogram go to the same native series', () => {
    const m = fresh({ groups: ['http'], nativeHistograms: { bucketFactor: 2 } });
    m.http.duration.observe({ method: 'GET', route: '/x', status: '200' }, 0.75);
    m.http.duration.observe({ method: 'GET', route: '/x', status: '200' }, 3);
    const s = seriesOf(m.registry, 'http_request_duration_seconds', { route: '/x' });
    expect(s?.schema).toBe(0);
    expect(decodeBuckets(s?.positiveSpans ?? [], s?.positiveDeltas ?? [])).toEqual(
      new Map([
        [0, 1],
        [2, 1],
      ]),
    );
  });

  it('catalog histograms record natively beside prom-client, with exact count and sum', async () => {
    const m = fresh({ groups: ['dependencies'], nativeHistograms: true });
    const values = [0.001, 0.02, 0.02, 0.3, 4, 0, 12.5];
    const h = m.get('dependency_request_duration_seconds');
    for (const v of values)
      (h as typeof m.http.duration).observe({ dependency: 'pg', outcome: 'success' } as never, v);
    const s = seriesOf(m.registry, 'dependency_request_duration_seconds', { dependency: 'pg' });
    expect(s?.count).toBe(values.length);
    expect(s?.sum).toBe(values.reduce((a, b) => a + b, 0));
    expect(s?.zeroCount).toBe(1);
    const b = decodeBuckets(s?.positiveSpans ?? [], s?.positiveDeltas ?? []);
    expect(b.get(keyOf(0.02, 3))).toBe(2);
    expect(b.get(keyOf(12.5, 3))).toBe(1);
    const text = await m.registry.metrics();
    expect(text).toContain('dependency_request_duration_seconds_bucket{le="0.005",dependency="pg"');
  });

  it('classicBuckets: false keeps only +Inf, _sum and _count in the classic form', async () => {
    const m = fresh({ groups: ['http'], nativeHistograms: { classicBuckets: false } });
    m.http.duration.observe({ method: 'GET', route: '/x', status: '200' }, 0.2);
    const text = await m.registry.metrics();
    const lines = text.split('\n').filter((l) => l.startsWith('http_request_duration_seconds'));
    expect(lines).toEqual([
      'http_request_duration_seconds_bucket{le="+Inf",method="GET",route="/x",status="200"} 1',
      'http_request_duration_seconds_sum{method="GET",route="/x",status="200"} 0.2',
      'http_request_duration_seconds_count{method="GET",route="/x",status="200"} 1',
    ]);
    expect(seriesOf(m.registry, 'http_request_duration_seconds', { route: '/x' })?.count).toBe(1);
  });

  it('removal, removeSeries and the series budget act on the native state too', () => {
    const def: MetricDefinition = {
      name: 'job_duration_seconds',
      type: 'histogram',
      help: 'Job duration.',
      unit: 'seconds',
      labelNames: ['job'],
      buckets: [1, 10],
      group: 'custom',
      maxSeries: 2,
      nativeHistogram: { bucketFactor: 1.5 },
    };
    const m = fresh({ groups: [], extraMetrics: [def] });
    const h = m.get<import('../src/index.js').HistogramHandle<'job'>>('job_duration_seconds');
    h.observe({ job: 'a' }, 1);
    h.observe({ job: 'b' }, 2);
    h.observe({ job: 'c' }, 3); // over budget: recorded in the overflow series
    const fam = () =>
      familyOf(m.registry, 'job_duration_seconds')
        ?.series.map((s) => s.labels.job)
        .sort();
    expect(fam()).toEqual(['__overflow__', 'a', 'b']);
    expect(seriesOf(m.registry, 'job_duration_seconds', { job: 'a' })?.schema).toBe(1);
    expect(h.remove({ job: 'a' })).toBe(1);
    expect(fam()).toEqual(['__overflow__', 'b']);
    expect(m.removeSeries({ job: 'b' })).toBe(1);
    expect(fam()).toEqual(['__overflow__']);
  });

  it('the TTL sweep drops idle native series', async () => {
    const def: MetricDefinition = {
      name: 'job_duration_seconds',
      type: 'histogram',
      help: 'Job duration.',
      unit: 'seconds',
      labelNames: ['job'],
      buckets: [1, 10],
      group: 'custom',
      nativeHistogram: true,
    };
    const m = fresh({ groups: [], extraMetrics: [def], seriesTtlSeconds: 0.5 });
    try {
      m.get<import('../src/index.js').HistogramHandle<'job'>>('job_duration_seconds').observe(
        { job: 'a' },
        1,
      );
      expect(familyOf(m.registry, 'job_duration_seconds')?.series).toHaveLength(1);
      const deadline = Date.now() + 5000;
      while (
        Date.now() < deadline &&
        (familyOf(m.registry, 'job_duration_seconds')?.series.length ?? 0) > 0
      ) {
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(familyOf(m.registry, 'job_duration_seconds')?.series).toHaveLength(0);
    } finally {
      m.shutdown();
    }
  });

  it('rejects bad settings with a coded error', () => {
    expect(() => fresh({ nativeHistograms: { bucketFactor: 1 } })).toThrow(/bucketFactor must be > 1/);
    expect(() => fresh({ nativeHistograms: { bucketFactr: 2 } as never })).toThrow(
      /unknown setting "bucketFactr"/,
    );
    expect(() => fresh({ nativeHistogramsFor: { nope: true } })).toThrow(/no histogram of that name/);
    expect(() => fresh({ nativeHistograms: 'yes' as never })).toThrow(/DEIA|nativeHistograms/);
  });
});
