// The delimited protobuf exposition, decoded by protobufjs with the upstream schema
// (support/metrics-schema.ts), not by the SDK's encoder: it must carry exactly the series of the
// text exposition of the same scrape, plus what only protobuf carries (native histograms, created
// timestamps), and the exemplars.
import { createServer } from 'node:http';
import { gunzipSync } from 'node:zlib';
import * as client from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createHttpObserver, type HttpObserver } from '../src/adapter.js';
import type { HttpLabels } from '../src/http-series.js';
import { createMetrics, type Metrics } from '../src/index.js';
import { type NativeFamily, type NativeHistogramSnapshot, setNativeSource } from '../src/native-contract.js';
import { type Decoded, decodeFamilies } from './support/metrics-schema.js';

const PROTO = 'application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily;encoding=delimited';
const TEXT = 'text/plain;version=0.0.4';

async function scrape(o: HttpObserver, accept: string, encoding = 'identity') {
  const r = await o.scrape({
    method: 'GET',
    path: '/metrics',
    headers: { accept, 'accept-encoding': encoding },
  });
  const raw = typeof r.body === 'string' ? Buffer.from(r.body) : Buffer.from(r.body);
  return { ...r, raw: r.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw };
}

const canonical = (name: string, labels: Record<string, string>) => {
  const pairs = Object.entries(labels)
    .map(([k, v]) => [k, k === 'le' || k === 'quantile' ? String(Number(v === '+Inf' ? Infinity : v)) : v])
    .sort(([a], [b]) => (a as string).localeCompare(b as string));
  return `${name}${JSON.stringify(pairs)}`;
};

const LABEL = /("(?:[^"\\]|\\.)*"|[a-zA-Z_:][a-zA-Z0-9_:]*)(?:="((?:[^"\\]|\\.)*)")?/g;
const unquote = (s: string) => s.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));

/** The series of a text exposition: canonical name+labels -> value. */
function textSeries(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sample = line.split(' # ')[0] as string;
    const brace = sample.indexOf('{');
    const close = sample.lastIndexOf('}');
    let name = brace < 0 ? (sample.split(' ')[0] as string) : sample.slice(0, brace);
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      for (const m of sample.slice(brace + 1, close).matchAll(LABEL)) {
        const key = m[1]?.startsWith('"') ? unquote(m[1].slice(1, -1)) : (m[1] as string);
        if (m[2] === undefined)
          name = key; // a quoted metric name inside the braces
        else labels[key] = unquote(m[2]);
      }
    }
    const value = sample.slice((brace < 0 ? name.length : close + 1) + 1).trim();
    out.set(canonical(name, labels), Number(value === '+Inf' ? Infinity : value));
  }
  return out;
}

const labelsOf = (m: Decoded['metric'][number]) =>
  Object.fromEntries((m.label ?? []).map((l) => [l.name, l.value])) as Record<string, string>;

type Hist = {
  sampleCount?: number;
  sampleSum?: number;
  bucket?: Array<{ cumulativeCount?: number; upperBound: number; exemplar?: unknown }>;
};

/** The series the protobuf families stand for, as the text format writes them. */
function protoSeries(families: Decoded[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const f of families) {
    for (const m of f.metric) {
      const labels = labelsOf(m);
      const value = (x: unknown) => (x as { value?: number } | undefined)?.value ?? 0;
      if (f.type === 'COUNTER') out.set(canonical(f.name, labels), value(m.counter));
      else if (f.type === 'GAUGE') out.set(canonical(f.name, labels), value(m.gauge));
      else if (f.type === 'UNTYPED') out.set(canonical(f.name, labels), value(m.untyped));
      else if (f.type === 'SUMMARY') {
        const s = m.summary as {
          sampleCount?: number;
          sampleSum?: number;
          quantile?: Array<{ quantile: number; value: number }>;
        };
        for (const q of s.quantile ?? [])
          out.set(canonical(f.name, { ...labels, quantile: String(q.quantile) }), q.value);
        out.set(canonical(`${f.name}_sum`, labels), s.sampleSum ?? 0);
        out.set(canonical(`${f.name}_count`, labels), s.sampleCount ?? 0);
      } else if (f.type === 'HISTOGRAM') {
        const h = m.histogram as Hist;
        for (const b of h.bucket ?? []) {
          out.set(
            canonical(`${f.name}_bucket`, { ...labels, le: String(b.upperBound) }),
            b.cumulativeCount ?? 0,
          );
        }
        out.set(canonical(`${f.name}_bucket`, { ...labels, le: '+Inf' }), h.sampleCount ?? 0);
        out.set(canonical(`${f.name}_sum`, labels), h.sampleSum ?? 0);
        out.set(canonical(`${f.name}_count`, labels), h.sampleCount ?? 0);
      }
    }
  }
  return out;
}

/** Real requests through the HTTP core (with exemplars), plus public-API calls on the same metrics. */
async function traffic(m: Metrics, observer: HttpObserver) {
  const server = createServer((req, res) => {
    observer.track(req, res, undefined);
    res.statusCode = req.url === '/boom' ? 500 : 200;
    res.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  for (const path of ['/bots/1', '/bots/2', '/boom'])
    await (await fetch(`http://127.0.0.1:${port}${path}`)).text();
  const deadline = Date.now() + 5000;
  while (Date.now() < deadline) {
    const n = (await m.http.requests.metric.get()).values.reduce((s, x) => s + x.value, 0);
    if (n >= 3) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  m.http.requests.inc({ method: 'GET', route: '/bots/:id', status: '200' });
  m.http.requests.inc({ method: 'POST', route: '/public', status: '201' }, 2);
  m.http.duration.observe({ method: 'GET', route: '/bots/:id', status: '200' }, 0.2);
  m.http.duration.observe({ method: 'POST', route: '/public', status: '201' }, 7);
}

/** The user's own prom-client metrics of every type, on the same registry. */
function userMetrics(registry: client.Registry) {
  const c = new client.Counter({
    name: 'jobs_total',
    help: 'jobs',
    labelNames: ['queue'],
    registers: [registry],
  });
  c.inc({ queue: 'a' }, 3);
  c.inc({ queue: 'b "q"\n' });
  const g = new client.Gauge({
    name: 'queue_depth',
    help: 'depth',
    labelNames: ['queue'],
    registers: [registry],
  });
  g.set({ queue: 'a' }, -2.5);
  const h = new client.Histogram({
    name: 'job_seconds',
    help: 'job time',
    labelNames: ['queue'],
    buckets: [0.1, 1, 10],
    registers: [registry],
  });
  h.observe({ queue: 'a' }, 0.05);
  h.observe({ queue: 'a' }, 5);
  h.observe({ queue: 'b' }, 50);
  const s = new client.Summary({
    name: 'job_size',
    help: 'sizes',
    percentiles: [0.5, 0.9],
    registers: [registry],
  });
  for (const v of [1, 2, 3, 4]) s.observe(v);
}

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('the protobuf exposition, decoded by protobufjs', () => {
  it('carries exactly the series of the text exposition, default labels and exemplars included', async () => {
    const m = createMetrics({
      groups: ['http', 'bots', 'process'],
      warn: () => {},
      exemplars: () => ({ trace_id: TRACE }),
      defaultLabels: { service: 'svc "q"', env: 'prod' },
    });
    userMetrics(m.registry as client.Registry);
    const observer = createHttpObserver({ metrics: m }, () => '/bots/:id');
    await traffic(m, observer);
    m.bots.recordRestart('b-1');

    for (const encoding of ['identity', 'gzip']) {
      const proto = await scrape(observer, PROTO, encoding);
      expect(proto.headers['content-type']).toBe(
        'application/vnd.google.protobuf; proto=io.prometheus.client.MetricFamily; encoding=delimited; escaping=underscores',
      );
      if (encoding === 'gzip') expect(proto.headers['content-encoding']).toBe('gzip');
      const text = (await scrape(observer, TEXT)).raw.toString();
      const families = decodeFamilies(proto.raw);
      const fromText = textSeries(text);
      // process metrics and active handles change between the two scrapes: the rest is compared exactly
      const stable = (s: Map<string, number>) =>
        new Map([...s].filter(([k]) => !/^(process_|nodejs_)/.test(k)));
      const fromProto = protoSeries(families);
      expect([...stable(fromProto).keys()].sort()).toEqual([...stable(fromText).keys()].sort());
      expect(stable(fromProto)).toEqual(stable(fromText));
      const names = (s: Map<string, number>) => new Set([...s.keys()].map((k) => k.split('[')[0]));
      expect(names(fromProto)).toEqual(names(fromText));
      expect(fromText.size).toBeGreaterThan(60);

      const byName = new Map(families.map((f) => [f.name, f]));
      expect(byName.get('jobs_total')?.type).toBe('COUNTER');
      expect(byName.get('job_size')?.type).toBe('SUMMARY');
      expect(byName.get('job_seconds')?.help).toBe('job time');
      // every metric carries the default labels
      for (const f of families) for (const x of f.metric) expect(labelsOf(x).service).toBe('svc "q"');
      // classic bucket exemplars of the HTTP duration
      const duration = byName.get('http_request_duration_seconds') as Decoded;
      const exemplars = duration.metric.flatMap((x) =>
        ((x.histogram as Hist).bucket ?? []).flatMap((b) => (b.exemplar ? [b.exemplar] : [])),
      ) as Array<{
        label: Array<{ name: string; value: string }>;
        value: number;
        timestamp: { seconds: number };
      }>;
      expect(exemplars.length).toBeGreaterThan(0);
      for (const e of exemplars) {
        expect(e.label).toEqual([{ name: 'trace_id', value: TRACE }]);
        expect(Math.abs(e.timestamp.seconds - Date.now() / 1000)).toBeLessThan(600);
      }
      // no native histogram without a NativeSource
      for (const x of duration.metric) expect((x.histogram as { schema?: number }).schema).toBeUndefined();
    }
    await observer.close();
  });

  it('writes the native histograms of the registry NativeSource beside the classic buckets', async () => {
    const m = createMetrics({ groups: ['http'], warn: () => {}, defaultLabels: { service: 's' } });
    const labels: HttpLabels = { method: 'GET', route: '/a', status: '200' };
    const created = Date.UTC(2026, 0, 2, 3, 4, 5, 678);
    const native: NativeHistogramSnapshot = {
      schema: 3,
      zeroThreshold: 2 ** -128,
      zeroCount: 1,
      count: 6,
      sum: 1.75,
      positiveSpans: [
        { offset: -5, length: 2 },
        { offset: 3, length: 1 },
      ],
      positiveDeltas: [2, -1, 1],
      negativeSpans: [{ offset: 1, length: 1 }],
      negativeDeltas: [1],
      createdTimestampMs: created,
      exemplars: [{ labels: { trace_id: TRACE }, value: 0.3, timestampMs: created + 1500 }],
    };
    const onlyNative: NativeHistogramSnapshot = {
      ...native,
      count: 0,
      sum: 0,
      zeroThreshold: 0,
      zeroCount: 0,
      positiveSpans: [],
      positiveDeltas: [],
      negativeSpans: [],
      negativeDeltas: [],
      exemplars: [],
    };
    const asked: string[] = [];
    setNativeSource(m.registry, {
      nativeFamily(name): NativeFamily | undefined {
        asked.push(name);
        if (name !== 'http_request_duration_seconds') return undefined;
        return {
          name,
          series: [
            { labels: { status: '200', route: '/a', method: 'GET' }, native },
            { labels: { method: 'GET', route: '/native-only', status: '204' }, native: onlyNative },
          ],
        };
      },
    });
    const observer = createHttpObserver({ metrics: m, metricsCreatedTimestamps: true }, () => '/a');
    const store = (await import('../src/http-series.js')).httpStoreOf(m);
    const d = store?.duration;
    if (!d) throw new Error('no duration');
    for (const v of [0.01, 0.2, 0.3, 0.5, 1, 0]) d.record(d.seriesFor(labels), v, false);

    const families = decodeFamilies((await scrape(observer, PROTO)).raw);
    // asked once per histogram family, never for counters or gauges
    expect(asked.sort()).toEqual(
      ['http_request_duration_seconds', 'http_request_size_bytes', 'http_response_size_bytes'].sort(),
    );
    const duration = families.find((f) => f.name === 'http_request_duration_seconds') as Decoded;
    expect(duration.metric).toHaveLength(2);
    const [both, only] = duration.metric as Array<{ histogram: Record<string, unknown> }>;
    const h = both?.histogram as Record<string, unknown>;
    expect(labelsOf(both as never)).toEqual({ method: 'GET', route: '/a', status: '200', service: 's' });
    expect(h.schema).toBe(3);
    expect(h.zeroThreshold).toBe(2 ** -128);
    expect(h.zeroCount).toBe(1);
    expect(h.sampleCount).toBe(6);
    expect(h.sampleSum).toBe(1.75);
    expect(h.positiveSpan).toEqual([
      { offset: -5, length: 2 },
      { offset: 3, length: 1 },
    ]);
    expect(h.positiveDelta).toEqual([2, -1, 1]);
    expect(h.negativeSpan).toEqual([{ offset: 1, length: 1 }]);
    expect(h.negativeDelta).toEqual([1]);
    expect(h.createdTimestamp).toEqual({ seconds: Math.floor(created / 1000), nanos: 678_000_000 });
    expect(h.exemplars).toEqual([
      {
        label: [{ name: 'trace_id', value: TRACE }],
        value: 0.3,
        timestamp: { seconds: Math.floor((created + 1500) / 1000), nanos: 178_000_000 },
      },
    ]);
    // the classic buckets are still there, cumulative
    const buckets = h.bucket as Array<{ cumulativeCount?: number; upperBound: number }>;
    expect(buckets.map((b) => b.upperBound)).toEqual(d.upper);
    expect(buckets.at(-1)?.cumulativeCount).toBe(6);
    // a label set recorded only natively: an empty native histogram keeps a no-bucket span
    expect(labelsOf(only as never)).toEqual({
      method: 'GET',
      route: '/native-only',
      status: '204',
      service: 's',
    });
    expect(only?.histogram.positiveSpan).toEqual([{ offset: 0, length: 0 }]);
    expect(only?.histogram.bucket).toEqual([]);

    // without the option: no created timestamps
    const plain = createHttpObserver({ metrics: m }, () => '/a');
    const again = decodeFamilies((await scrape(plain, PROTO)).raw);
    const h2 = again.find((f) => f.name === 'http_request_duration_seconds')?.metric[0]?.histogram as Record<
      string,
      unknown
    >;
    expect(h2.schema).toBe(3);
    expect(h2.createdTimestamp).toBeUndefined();
    await observer.close();
    await plain.close();
  });
});
