import type { DefaultLabels, Exemplar, MetricJson, NameWriter } from './exposition.js';
import { labelKey, NO_DEFAULT_LABELS } from './exposition.js';
import type {
  CounterSnapshot,
  HistogramSnapshot,
  HttpCounterMetric,
  HttpHistogramMetric,
} from './http-series.js';
import type { NativeSource } from './native-contract.js';
import { ProtoWriter } from './proto-encoder.js';
import {
  type Classic,
  COUNTER,
  type Ctx,
  classicOf,
  flush,
  GAUGE,
  HISTOGRAM,
  header,
  type Labels,
  type Natives,
  nativesOf,
  type ProtoRenderOptions,
  SUMMARY,
  takeNative,
  UNTYPED,
  writeExemplar,
  writeHistogram,
  writeLabels,
  writeNativeOnly,
} from './proto-metric.js';
import { type Collected, collect, defaultLabelsOf, metricsOf, type RenderableRegistry } from './render.js';
import type { SlicedWriter } from './render-writer.js';

export type { ProtoRenderOptions } from './proto-metric.js';

/**
 * The delimited protobuf exposition (`io.prometheus.client.MetricFamily`, each message preceded
 * by its varint length), written from the same state as the text formats (`render.ts`): the
 * HTTP core's own series and every other metric's public `get()`, plus the native histograms a
 * registry's `NativeSource` (`native-contract.ts`) hands out. A histogram carries its classic
 * buckets (with their exemplars) and, when it records one, its native histogram in the same
 * message, as client_golang writes them. Field numbers are those of the upstream `metrics.proto`.
 */

/** A metric in `get()` form (`live`: its values copied at snapshot time). */
async function writeJsonFamily(
  c: Ctx,
  m: MetricJson,
  live: Float64Array | undefined,
  natives: Natives | undefined,
): Promise<void> {
  const values = m.values ?? [];
  if (m.type === 'histogram') {
    header(c, m.name, m.help, HISTOGRAM);
    const groups = classicOf(m.name, values, live);
    let n = 0;
    for (const h of groups.values()) {
      writeHistogram(c, h.labels, h, takeNative(natives, h.labels));
      if (++n % 64 === 0 && c.w.due()) await c.w.pause();
    }
    n += await writeNativeOnly(c, natives);
    flush(c, n === 0);
    return;
  }
  if (m.type === 'summary') {
    header(c, m.name, m.help, SUMMARY);
    const groups = new Map<string, { labels: Labels; q: [number, number][]; sum: number; count: number }>();
    values.forEach((v, i) => {
      const labels = v.labels ?? {};
      const key = labelKey(labels, 'quantile');
      let g = groups.get(key);
      if (g === undefined) {
        g = { labels, q: [], sum: 0, count: 0 };
        groups.set(key, g);
      }
      const value = live === undefined ? v.value : (live[i] as number);
      const sample = v.metricName ?? m.name;
      if (sample.endsWith('_sum')) g.sum = value;
      else if (sample.endsWith('_count')) g.count = value;
      else if (labels.quantile !== undefined) g.q.push([Number(labels.quantile), value]);
    });
    for (const g of groups.values()) {
      const pb = c.pb;
      pb.begin(4);
      writeLabels(c, g.labels, 'quantile');
      pb.begin(4);
      pb.uint(1, Math.max(0, Math.round(g.count)));
      pb.double(2, g.sum);
      for (const [q, v] of g.q) {
        pb.begin(3);
        pb.double(1, q);
        pb.double(2, v);
        pb.end();
      }
      pb.end();
      pb.end();
    }
    flush(c, groups.size === 0);
    return;
  }
  const type = m.type === 'counter' ? COUNTER : m.type === 'gauge' ? GAUGE : UNTYPED;
  const field = type === COUNTER ? 3 : type === GAUGE ? 2 : 5;
  header(c, m.name, m.help, type);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as MetricJson['values'][number];
    const pb = c.pb;
    pb.begin(4);
    writeLabels(c, v.labels);
    pb.begin(field);
    pb.double(1, live === undefined ? v.value : (live[i] as number));
    if (type === COUNTER) writeExemplar(c, 2, v.exemplar);
    pb.end();
    pb.end();
    if (i % 64 === 63 && c.w.due()) await c.w.pause();
  }
  flush(c, values.length === 0);
}

const httpKey = (l: Labels) => `${l.method}\u0000${l.route}\u0000${l.status}`;

/** `http_requests_total` from its snapshot, plus what the public API recorded (`inner`). */
async function writeHttpCounter(c: Ctx, m: HttpCounterMetric, snap: CounterSnapshot): Promise<void> {
  header(c, m.name, m.help, COUNTER);
  const extra = new Map(snap.inner.map((v) => [httpKey(v.labels), v]));
  const { series, values } = snap;
  const pb = c.pb;
  for (let i = 0; i < series.length; i++) {
    const s = series[i] as CounterSnapshot['series'][number];
    let v = values[i] as number;
    let ex: Exemplar | null | undefined;
    if (extra.size > 0) {
      const other = extra.get(httpKey(s.labels));
      if (other !== undefined) {
        extra.delete(httpKey(s.labels));
        v += other.value;
        ex = other.exemplar;
      }
    }
    pb.begin(4);
    writeLabels(c, s.labels);
    pb.begin(3);
    pb.double(1, v);
    writeExemplar(c, 2, ex);
    pb.end();
    pb.end();
    if (i % 64 === 63 && c.w.due()) await c.w.pause();
  }
  for (const v of extra.values()) {
    pb.begin(4);
    writeLabels(c, v.labels);
    pb.begin(3);
    pb.double(1, v.value);
    writeExemplar(c, 2, v.exemplar);
    pb.end();
    pb.end();
  }
  flush(c, series.length + extra.size === 0);
}

/** An HTTP histogram from its snapshot (exemplars included), the public API's series and natives. */
async function writeHttpHistogram(
  c: Ctx,
  m: HttpHistogramMetric,
  snap: HistogramSnapshot,
  natives: Natives | undefined,
): Promise<void> {
  header(c, m.name, m.help, HISTOGRAM);
  const n = m.upper.length;
  const k = n + 3;
  const extra = new Map<string, Classic>();
  if (snap.inner.length > 0)
    for (const h of classicOf(m.name, snap.inner).values()) extra.set(httpKey(h.labels), h);
  const { series, data, exemplars } = snap;
  // one Classic reused for every label set: no object per series
  const h: Classic = {
    labels: {},
    bounds: [...m.upper],
    cum: new Array(n + 1),
    exemplars: [],
    sum: 0,
    count: 0,
  };
  const noExemplars: Array<Exemplar | undefined> = [];
  for (let i = 0; i < series.length; i++) {
    const s = series[i] as HistogramSnapshot['series'][number];
    const at = i * k;
    const other = extra.size > 0 ? extra.get(httpKey(s.labels)) : undefined;
    if (other !== undefined) extra.delete(httpKey(s.labels));
    let acc = 0;
    const ex = exemplars?.[i] ?? noExemplars;
    for (let b = 0; b <= n; b++) {
      acc += data[at + b] as number;
      h.cum[b] = acc + (other === undefined ? 0 : cumAt(other, b, m.upper));
      const a = ex[b];
      const o = other?.exemplars[b];
      h.exemplars[b] = a && o ? ((a.timestamp ?? 0) >= (o.timestamp ?? 0) ? a : o) : (a ?? o);
    }
    h.sum = (data[at + n + 1] as number) + (other?.sum ?? 0);
    h.count = (data[at + n + 2] as number) + (other?.count ?? 0);
    writeHistogram(c, s.labels, h, takeNative(natives, s.labels));
    if (i % 16 === 15 && c.w.due()) await c.w.pause();
  }
  for (const o of extra.values()) writeHistogram(c, o.labels, o, takeNative(natives, o.labels));
  const only = await writeNativeOnly(c, natives);
  flush(c, series.length + extra.size + only === 0);
}

/** The cumulative count of the public API's series at bound `b` (its bounds are the metric's). */
function cumAt(h: Classic, b: number, upper: readonly number[]): number {
  if (b === upper.length) return h.cum[h.cum.length - 1] ?? 0;
  const i = h.bounds.indexOf(upper[b] as number);
  return i < 0 ? 0 : (h.cum[i] as number);
}

type Family =
  | { kind: 'counter'; m: HttpCounterMetric; snap: CounterSnapshot }
  | { kind: 'histogram'; m: HttpHistogramMetric; snap: HistogramSnapshot; natives: Natives | undefined }
  | { kind: 'json'; json: MetricJson; values: Float64Array; natives: Natives | undefined };

/**
 * Writes a registry in the delimited protobuf format into `w`, yielding between slices. Like
 * `renderRegistry`: one snapshot (every `get()` at once, the HTTP core's series and the native
 * series copied in one synchronous stretch), then encoded family by family.
 */
export async function renderRegistryProto(
  registry: RenderableRegistry,
  w: SlicedWriter,
  names: NameWriter,
  opts: ProtoRenderOptions,
  natives: NativeSource | undefined,
): Promise<void> {
  const d = await defaultLabelsOf(registry);
  const collected: Collected[] = await Promise.all(metricsOf(registry).map(collect));
  if (w.due()) await w.pause();
  const families: Family[] = collected.map((x) => {
    if (x.kind === 'counter') return { kind: 'counter', m: x.m, snap: x.m.snapshot(x.inner) };
    if (x.kind === 'histogram') {
      return {
        kind: 'histogram',
        m: x.m,
        snap: x.m.snapshot(x.inner, true),
        natives: nativesOf(natives, x.m.name),
      };
    }
    const n = x.json.type === 'histogram' ? nativesOf(natives, x.json.name) : undefined;
    return { ...x, natives: n };
  });
  collected.length = 0;
  const c: Ctx = { pb: new ProtoWriter(), w, d, names, opts };
  for (let i = 0; i < families.length; i++) {
    const f = families[i] as Family;
    families[i] = undefined as unknown as Family; // written: its snapshot can go
    if (f.kind === 'counter') await writeHttpCounter(c, f.m, f.snap);
    else if (f.kind === 'histogram') await writeHttpHistogram(c, f.m, f.snap, f.natives);
    else await writeJsonFamily(c, f.json, f.values, f.natives);
    if (w.due()) await w.pause();
  }
}

/**
 * Writes metrics in `getMetricsAsJSON()` form (a cluster primary's aggregate) in the delimited
 * protobuf format, applying `defaults`; native series come from `natives` when given.
 */
export async function renderJsonProto(
  metrics: readonly MetricJson[],
  w: SlicedWriter,
  names: NameWriter,
  opts: ProtoRenderOptions,
  defaults: DefaultLabels = NO_DEFAULT_LABELS,
  natives?: NativeSource,
): Promise<void> {
  const byFamily = metrics.map((m) => (m.type === 'histogram' ? nativesOf(natives, m.name) : undefined));
  const c: Ctx = { pb: new ProtoWriter(), w, d: defaults, names, opts };
  for (let i = 0; i < metrics.length; i++) {
    await writeJsonFamily(c, metrics[i] as MetricJson, undefined, byFamily[i]);
    if (w.due()) await w.pause();
  }
}
