import type { DefaultLabels, Exemplar, MetricJson, NameWriter } from './exposition.js';
import { NO_DEFAULT_LABELS, num } from './exposition.js';
import type {
  CounterSnapshot,
  HistogramSnapshot,
  HttpCounterMetric,
  HttpHistogramMetric,
} from './http-series.js';
import type {
  NativeExemplar,
  NativeFamily,
  NativeHistogramSnapshot,
  NativeSource,
} from './native-contract.js';
import { ProtoWriter } from './proto-encoder.js';
import { type Collected, collect, defaultLabelsOf, type RenderableRegistry } from './render.js';
import type { SlicedWriter } from './render-writer.js';

/**
 * The delimited protobuf exposition (`io.prometheus.client.MetricFamily`, each message preceded
 * by its varint length), written from the same state as the text formats (`render.ts`): the
 * HTTP core's own series and every other metric's public `get()`, plus the native histograms a
 * registry's `NativeSource` (`native-contract.ts`) hands out. A histogram carries its classic
 * buckets (with their exemplars) and, when it records one, its native histogram in the same
 * message, as client_golang writes them. Field numbers are those of the upstream `metrics.proto`.
 */

/** What the protobuf renderer writes beyond the samples. */
export interface ProtoRenderOptions {
  /** Write `created_timestamp` where the SDK knows when a series was created. */
  readonly created: boolean;
}

const COUNTER = 0;
const GAUGE = 1;
const SUMMARY = 2;
const UNTYPED = 3;
const HISTOGRAM = 4;

type Labels = Readonly<Record<string, string | number | undefined>>;

/** One label set of a classic histogram: cumulative counts per finite bound, then +Inf. */
interface Classic {
  labels: Labels;
  bounds: number[];
  /** Cumulative counts, one per bound, then the +Inf bucket. */
  cum: number[];
  exemplars: Array<Exemplar | null | undefined>;
  sum: number;
  count: number;
}

/** One scrape's encoding context. */
interface Ctx {
  readonly pb: ProtoWriter;
  readonly w: SlicedWriter;
  readonly d: DefaultLabels;
  readonly names: NameWriter;
  readonly opts: ProtoRenderOptions;
}

function pair(pb: ProtoWriter, names: NameWriter, k: string, v: string): void {
  pb.begin(1);
  pb.string(1, names.plain(k));
  pb.string(2, v);
  pb.end();
}

/** The labels of a metric with the default labels applied, as `labelBody` applies them. */
function writeLabels(c: Ctx, labels: Labels | undefined, skip?: string): void {
  const { pb, d, names } = c;
  const defaults = d.pairs.size > 0;
  if (labels !== undefined) {
    for (const k in labels) {
      if (k === skip) continue;
      const v = labels[k];
      if (defaults && (v === undefined || v === '' || v === 0) && Object.hasOwn(d.values, k)) {
        pair(pb, names, k, d.values[k] as string);
        continue;
      }
      if (v === undefined) continue;
      pair(pb, names, k, typeof v === 'string' ? v : num(v));
    }
  }
  if (defaults) {
    for (const k in d.values) {
      if (labels === undefined || !Object.hasOwn(labels, k)) pair(pb, names, k, d.values[k] as string);
    }
  }
}

function writeExemplar(c: Ctx, field: number, e: Exemplar | null | undefined): void {
  if (!e || e.timestamp === undefined || !e.labelSet) return;
  const { pb, names } = c;
  pb.begin(field);
  for (const k in e.labelSet) pair(pb, names, k, String(e.labelSet[k]));
  pb.double(2, e.value);
  pb.timestamp(3, e.timestamp * 1000);
  pb.end();
}

function writeNativeExemplar(c: Ctx, e: NativeExemplar): void {
  const { pb, names } = c;
  pb.begin(16);
  for (const k in e.labels) pair(pb, names, k, e.labels[k] as string);
  pb.double(2, e.value);
  pb.timestamp(3, e.timestampMs);
  pb.end();
}

/** A count: uint64 when it is an integer, else the `_float` field. */
function count(pb: ProtoWriter, field: number, floatField: number, v: number): void {
  if (Number.isInteger(v) && v >= 0) pb.uint(field, v);
  else pb.double(floatField, v);
}

function writeSpans(pb: ProtoWriter, field: number, spans: NativeHistogramSnapshot['positiveSpans']): void {
  for (const s of spans) {
    pb.begin(field);
    pb.sint(1, s.offset);
    pb.uint(2, s.length);
    pb.end();
  }
}

/** The native fields of a `Histogram` message (schema, zero bucket, spans, deltas, exemplars). */
function writeNative(c: Ctx, h: NativeHistogramSnapshot): void {
  const pb = c.pb;
  pb.sint(5, h.schema);
  pb.double(6, h.zeroThreshold);
  count(pb, 7, 8, h.zeroCount);
  writeSpans(pb, 9, h.negativeSpans);
  for (const d of h.negativeDeltas) pb.sint(10, d);
  if (
    h.positiveSpans.length === 0 &&
    h.negativeSpans.length === 0 &&
    h.zeroThreshold === 0 &&
    h.zeroCount === 0
  ) {
    // an empty native histogram is told apart from a classic one by a span of no buckets (client_golang)
    writeSpans(pb, 12, [{ offset: 0, length: 0 }]);
  } else writeSpans(pb, 12, h.positiveSpans);
  for (const d of h.positiveDeltas) pb.sint(13, d);
  for (const e of h.exemplars ?? []) writeNativeExemplar(c, e);
}

/**
 * One `Metric` with a `Histogram`: classic buckets (the +Inf one only when it has an exemplar:
 * its count is `sample_count`), and the native histogram when there is one (whose count and sum
 * are then the message's).
 */
function writeHistogram(
  c: Ctx,
  labels: Labels | undefined,
  h: Classic | undefined,
  native?: NativeHistogramSnapshot,
) {
  const pb = c.pb;
  pb.begin(4);
  writeLabels(c, labels, 'le');
  pb.begin(7);
  count(pb, 1, 4, native?.count ?? h?.count ?? 0);
  pb.double(2, native?.sum ?? h?.sum ?? 0);
  if (h !== undefined) {
    const n = h.bounds.length;
    for (let b = 0; b < n; b++) {
      pb.begin(3);
      count(pb, 1, 4, h.cum[b] as number);
      pb.double(2, h.bounds[b] as number);
      writeExemplar(c, 3, h.exemplars[b]);
      pb.end();
    }
    const inf = h.exemplars[n];
    if (inf) {
      pb.begin(3);
      count(pb, 1, 4, h.cum[n] as number);
      pb.double(2, Number.POSITIVE_INFINITY);
      writeExemplar(c, 3, inf);
      pb.end();
    }
  }
  if (native !== undefined) {
    writeNative(c, native);
    if (c.opts.created && native.createdTimestampMs !== undefined)
      pb.timestamp(15, native.createdTimestampMs);
  }
  pb.end();
  pb.end();
}

/** A canonical key of a label set (order-independent), `skip` left out. */
export function labelKey(labels: Labels, skip?: string): string {
  const keys = Object.keys(labels).sort();
  let key = '';
  for (const k of keys) {
    const v = labels[k];
    if (k === skip || v === undefined) continue;
    key += `${k}\u0001${v}\u0000`;
  }
  return key;
}

/** The samples of a histogram in `get()` form, grouped by label set (without `le`). */
function classicOf(name: string, values: readonly MetricJson['values'][number][], live?: Float64Array) {
  const out = new Map<string, Classic>();
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as MetricJson['values'][number];
    const labels = v.labels ?? {};
    const key = labelKey(labels, 'le');
    let h = out.get(key);
    if (h === undefined) {
      const { le: _le, ...rest } = labels;
      h = { labels: rest, bounds: [], cum: [], exemplars: [], sum: 0, count: 0 };
      out.set(key, h);
    }
    const value = live === undefined ? v.value : (live[i] as number);
    const sample = v.metricName ?? name;
    if (sample.endsWith('_bucket')) {
      const le = labels.le;
      const bound = le === '+Inf' ? Number.POSITIVE_INFINITY : Number(le);
      if (bound === Number.POSITIVE_INFINITY) {
        h.cum.push(value);
        h.exemplars.push(v.exemplar);
      } else if (!Number.isNaN(bound)) {
        h.bounds.push(bound);
        h.cum.push(value);
        h.exemplars.push(v.exemplar);
      }
    } else if (sample.endsWith('_sum')) h.sum = value;
    else if (sample.endsWith('_count')) h.count = value;
  }
  return out;
}

/** A family's native series, by label key (taken in the snapshot's synchronous stretch). */
interface Natives {
  readonly family: NativeFamily;
  /** Those not yet written beside a classic series. */
  readonly byKey: Map<string, NativeHistogramSnapshot>;
}

function nativesOf(source: NativeSource | undefined, name: string): Natives | undefined {
  const family = source?.nativeFamily(name);
  if (family === undefined || family.series.length === 0) return undefined;
  return { family, byKey: new Map(family.series.map((s) => [labelKey(s.labels), s.native])) };
}

/** The native histogram of a classic series, taken out of `natives` (written once). */
function takeNative(natives: Natives | undefined, key: () => string): NativeHistogramSnapshot | undefined {
  if (natives === undefined) return undefined;
  const k = key();
  const native = natives.byKey.get(k);
  if (native !== undefined) natives.byKey.delete(k);
  return native;
}

/** The native series without a classic one (a label set recorded only natively). */
async function writeNativeOnly(c: Ctx, natives: Natives | undefined): Promise<number> {
  if (natives === undefined || natives.byKey.size === 0) return 0;
  let n = 0;
  for (const s of natives.family.series) {
    if (!natives.byKey.has(labelKey(s.labels))) continue;
    writeHistogram(c, s.labels, undefined, s.native);
    n++;
    if (c.w.due()) await c.w.pause();
  }
  return n;
}

function header(c: Ctx, name: string, help: string, type: number): void {
  c.pb.begin(0);
  c.pb.string(1, c.names.plain(name));
  c.pb.string(2, help);
  c.pb.uint(3, type);
}

/** Ends a family: its bytes go to the writer (a family with no metric is left out). */
function flush(c: Ctx, empty: boolean): void {
  c.pb.end();
  if (!empty) c.w.writeBytes(c.pb.bytes());
  c.pb.reset();
}

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
    for (const [key, h] of groups) {
      writeHistogram(
        c,
        h.labels,
        h,
        takeNative(natives, () => key),
      );
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
    writeHistogram(
      c,
      s.labels,
      h,
      takeNative(natives, () => labelKey(s.labels)),
    );
    if (i % 16 === 15 && c.w.due()) await c.w.pause();
  }
  for (const o of extra.values())
    writeHistogram(
      c,
      o.labels,
      o,
      takeNative(natives, () => labelKey(o.labels)),
    );
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
  const collected: Collected[] = await Promise.all(registry.getMetricsAsArray().map(collect));
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
