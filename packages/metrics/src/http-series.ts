import type { Counter, Histogram } from 'prom-client';
import { type DefaultLabels, escapeHelp, exemplarText, floatLabel, labelBody, num } from './exposition.js';
import {
  CHECK_EVERY,
  type CounterSeries,
  type Exemplar,
  type HistogramSeries,
  type HttpLabels,
  type HttpStore,
  textOf,
  useDefaults,
} from './http-store.js';
import type { NativeFamily, NativeHistogramSnapshot } from './native-contract.js';
import { NativeSeries, type NativeSettings } from './native-histogram.js';
import type { SlicedWriter } from './render-writer.js';
import type { RegistryLike } from './types.js';

/**
 * The HTTP RED series live here, in plain objects the HTTP core updates directly (no label
 * validation or hashing per request), and reach the registry through prom-client's public metric
 * contract: each HTTP metric is registered with `registry.registerMetric()` as an object with
 * `name`, `help`, `type`, `aggregator`, `get()` and `reset()`: what `Registry#metrics()`,
 * `getMetricsAsJSON()` and the cluster aggregator call. Calls made through the public API
 * (`handle.inc()`, `metric.observe()`, app code) go to an unregistered prom-client metric of the
 * same name and labels; `get()` merges both, so a label set recorded both ways is one series.
 *
 * `/metrics` does not go through `get()`: `snapshot()` copies the values of every series at once
 * and `render()` writes them with one label text per label set (default labels included), kept in
 * the store and dropped with the label set, so a scrape allocates no object per sample.
 */

// The store's slots for the HTTP metric objects, declared here with their classes (the store module
// holds plain state and does not import this one: no import cycle).
declare module './http-store.js' {
  interface HttpStore {
    requests?: HttpCounterMetric;
    duration?: HttpHistogramMetric;
    requestSize?: HttpHistogramMetric;
    responseSize?: HttpHistogramMetric;
  }
}

/** The metrics whose series the HTTP core records directly. */
export const HTTP_SERIES_METRICS: ReadonlySet<string> = new Set([
  'http_requests_total',
  'http_request_duration_seconds',
  'http_request_size_bytes',
  'http_response_size_bytes',
]);

/** Marks the registered wrapper (also across copies of this package sharing one registry). */
const BRAND = Symbol.for('@deia/metrics.httpSeriesMetric');

export {
  type CounterSeries,
  createHttpStore,
  type HistogramSeries,
  type HttpLabels,
  type HttpStore,
  httpStoreOf,
  setHttpStore,
} from './http-store.js';

export const isHttpSeriesMetric = (m: unknown): boolean =>
  typeof m === 'object' && m !== null && (m as { [BRAND]?: boolean })[BRAND] === true;

const keyOf = (l: Partial<Record<string, unknown>>) => `${l.method}\u0000${l.route}\u0000${l.status}`;

/** prom-client's `(labels)` or positional `(...values)` forms, as an object. */
function labelsOf(labelNames: readonly string[], args: unknown[]): Record<string, unknown> {
  if (typeof args[0] === 'object' && args[0] !== null) return args[0] as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  labelNames.forEach((n, i) => {
    out[n] = args[i];
  });
  return out;
}

interface MetricValue {
  labels: Record<string, string | number>;
  value: number;
  metricName?: string;
  exemplar?: Exemplar | null;
}
interface MetricObject {
  name: string;
  help: string;
  type: string;
  values: MetricValue[];
  aggregator: string;
}

type Inner = {
  get(): Promise<{ values: unknown[] }>;
  reset(): void;
  remove(...args: unknown[]): void;
} & Record<string, unknown>;

abstract class HttpSeriesMetric<S extends { labels: HttpLabels }> {
  readonly [BRAND] = true;
  name: string;
  readonly help: string;
  readonly labelNames: string[];
  readonly aggregator = 'sum';
  protected readonly series = new Map<string, S>();

  constructor(
    protected readonly inner: Inner,
    protected readonly store: HttpStore,
    config: { name: string; help: string; labelNames: string[] },
  ) {
    this.name = config.name;
    this.help = config.help;
    this.labelNames = config.labelNames;
  }

  protected abstract create(labels: HttpLabels): S;

  /** The values recorded through the public API (the inner prom-client metric), for a scrape. */
  async innerValues(): Promise<MetricValue[]> {
    return (await this.inner.get()).values as MetricValue[];
  }

  /** `# HELP` and `# TYPE` of the family. */
  protected header(w: SlicedWriter, om: boolean, base: string): void {
    w.write(`# HELP ${base} ${escapeHelp(this.help, om)}\n# TYPE ${base} ${this.type}\n`);
  }

  abstract readonly type: string;

  /** The series of one label set, created on first use (the HTTP core caches it). */
  seriesFor(labels: HttpLabels): S {
    const key = keyOf(labels);
    let s = this.series.get(key);
    if (s === undefined) {
      s = this.create(labels);
      this.series.set(key, s);
    }
    return s;
  }

  reset(): void {
    this.inner.reset();
    this.series.clear();
    this.store.epoch++;
  }

  remove(...args: unknown[]): void {
    this.inner.remove(...args);
    if (this.series.delete(keyOf(labelsOf(this.labelNames, args)))) this.store.epoch++;
  }

  labels(...args: unknown[]): unknown {
    return (this.inner.labels as (...a: unknown[]) => unknown)(...args);
  }
}

/** `http_requests_total`: registered in place of a prom-client Counter, and behaves like one. */
export class HttpCounterMetric extends HttpSeriesMetric<CounterSeries> {
  readonly type = 'counter';

  protected create(labels: HttpLabels): CounterSeries {
    return { labels, value: 0 };
  }

  inc(...args: unknown[]): void {
    (this.inner.inc as (...a: unknown[]) => void)(...args);
  }

  /**
   * Copies every value now (call it for all HTTP families in one synchronous stretch: one
   * consistent snapshot per scrape); `inner` is what `innerValues()` returned.
   */
  snapshot(inner: MetricValue[]): CounterSnapshot {
    const series = [...this.series.values()];
    const values = new Float64Array(series.length);
    for (let i = 0; i < series.length; i++) values[i] = (series[i] as CounterSeries).value;
    return { series, values, inner: inner.map((v) => ({ ...v })) };
  }

  /** Writes a snapshot as one family; yields between slices. */
  async render(snap: CounterSnapshot, w: SlicedWriter, om: boolean, d: DefaultLabels): Promise<void> {
    const name = this.name;
    this.header(w, om, om ? name.replace(/_total$/, '') : name);
    const sample = om && !name.endsWith('_total') ? `${name}_total` : name;
    useDefaults(this.store, d);
    let extra: Map<string, MetricValue> | undefined;
    if (snap.inner.length > 0) extra = new Map(snap.inner.map((v) => [keyOf(v.labels), v]));
    const { series, values } = snap;
    for (let i = 0; i < series.length; i++) {
      const s = series[i] as CounterSeries;
      let v = values[i] as number;
      let ex = '';
      if (extra !== undefined) {
        const key = keyOf(s.labels);
        const other = extra.get(key);
        if (other !== undefined) {
          extra.delete(key);
          v += other.value;
          if (om) ex = exemplarText(other.exemplar);
        }
      }
      w.write(`${sample}{${textOf(this.store, s.labels, d)}} ${num(v)}${ex}\n`);
      if (i % CHECK_EVERY === 0 && w.due()) await w.pause();
    }
    if (extra !== undefined) {
      for (const v of extra.values()) {
        const body = labelBody(v.labels, d);
        w.write(`${sample}${body ? `{${body}}` : ''} ${num(v.value)}${om ? exemplarText(v.exemplar) : ''}\n`);
      }
    }
  }

  async get(): Promise<MetricObject> {
    const inner = (await this.inner.get()).values as MetricValue[];
    const values: MetricValue[] = [];
    let extra: Map<string, MetricValue> | undefined;
    if (inner.length > 0) extra = new Map(inner.map((v) => [keyOf(v.labels), v]));
    for (const [key, s] of this.series) {
      const other = extra?.get(key);
      if (other !== undefined) extra?.delete(key);
      values.push({ labels: s.labels, value: s.value + (other?.value ?? 0) });
    }
    if (extra) for (const v of extra.values()) values.push(v);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

export interface CounterSnapshot {
  readonly series: readonly CounterSeries[];
  readonly values: Float64Array;
  readonly inner: readonly MetricValue[];
}

export interface HistogramSnapshot {
  readonly series: readonly HistogramSeries[];
  /** Per series: n+1 bucket counts (not cumulative), sum, count. */
  readonly data: Float64Array;
  /** Per series, its exemplars when it had any (OpenMetrics only). */
  readonly exemplars: ReadonlyArray<ReadonlyArray<Exemplar | undefined> | undefined> | undefined;
  readonly inner: readonly MetricValue[];
}

interface Cumulative {
  labels: Record<string, string | number>;
  cum: number[];
  sum: number;
  count: number;
  exemplars: Array<Exemplar | undefined | null>;
}

/** An HTTP histogram: registered in place of a prom-client Histogram, and behaves like one. */
export class HttpHistogramMetric extends HttpSeriesMetric<HistogramSeries> {
  readonly type = 'histogram';
  readonly upper: readonly number[];

  constructor(
    inner: Inner,
    store: HttpStore,
    config: { name: string; help: string; labelNames: string[]; buckets: readonly number[] },
    /** Exemplar labels (e.g. the active trace id); `record(..., true)` asks it. */
    readonly exemplarLabels?: () => Record<string, string> | undefined,
    /** Native-histogram settings: each label set records a native histogram too. */
    readonly native?: NativeSettings,
  ) {
    super(inner, store, config);
    this.upper = [...config.buckets];
  }

  protected create(labels: HttpLabels): HistogramSeries {
    return {
      labels,
      counts: new Float64Array(this.upper.length + 1),
      sum: 0,
      count: 0,
      exemplars: undefined,
      native: this.native === undefined ? undefined : new NativeSeries(this.native),
    };
  }

  /** The HTTP core's hot path: one bucket search and three additions (and the native bucket). */
  record(s: HistogramSeries, v: number, exemplar: boolean): void {
    let labelSet: Record<string, string> | undefined;
    if (exemplar && this.exemplarLabels !== undefined) {
      labelSet = this.exemplarLabels();
      let size = 0;
      if (labelSet !== undefined) for (const k in labelSet) size += k.length + String(labelSet[k]).length;
      // OpenMetrics caps an exemplar's label set at 128 characters; prom-client throws, we skip it
      if (size === 0 || size > 128) labelSet = undefined;
    }
    // A bucket-limit reset of the native part resets the classic part of the label set too.
    if (s.native?.observe(v, labelSet) === true) this.resetClassic(s);
    const upper = this.upper;
    const n = upper.length;
    let i = 0;
    while (i < n && v > (upper[i] as number)) i++;
    s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += v;
    s.count += 1;
    if (labelSet !== undefined) {
      s.exemplars ??= [];
      s.exemplars[i] = { labelSet, value: v, timestamp: Date.now() / 1000 };
    }
  }

  private resetClassic(s: HistogramSeries): void {
    s.counts.fill(0);
    s.sum = 0;
    s.count = 0;
    s.exemplars = undefined;
    this.inner.remove(s.labels);
  }

  observe(...args: unknown[]): void {
    // The native part of a public-API observation goes to the label set's own series object.
    if (this.native !== undefined && typeof args[0] === 'object' && args[0] !== null) {
      // (labels, value), or prom-client's ({ labels, value, exemplarLabels }) form
      const one =
        args.length === 1
          ? (args[0] as { labels?: unknown; value?: unknown; exemplarLabels?: unknown })
          : undefined;
      const l = (one ? one.labels : args[0]) as Record<string, unknown> | undefined;
      const v = one ? one.value : args[1];
      if (typeof v === 'number' && typeof l === 'object' && l !== null) {
        const s = this.seriesFor({
          method: String(l.method),
          route: String(l.route),
          status: String(l.status),
        });
        const ex = one?.exemplarLabels as Record<string, string> | undefined;
        if (s.native?.observe(v, ex && Object.keys(ex).length > 0 ? ex : undefined) === true)
          this.resetClassic(s);
      }
    }
    (this.inner.observe as (...a: unknown[]) => void)(...args);
  }

  /** The native histograms of every label set now (the `NativeSource` contract). */
  snapshotFamily(): NativeFamily {
    const series: Array<{ labels: Record<string, string>; native: NativeHistogramSnapshot }> = [];
    for (const s of this.series.values()) {
      if (s.native !== undefined) series.push({ labels: { ...s.labels }, native: s.native.snapshot() });
    }
    return { name: this.name, series };
  }
  startTimer(...args: unknown[]): unknown {
    return (this.inner.startTimer as (...a: unknown[]) => unknown)(...args);
  }
  zero(...args: unknown[]): void {
    (this.inner.zero as (...a: unknown[]) => void)(...args);
  }

  /** The prefixes of the bucket samples (`name_bucket{le="0.1"`), made on first use. */
  private bucketPrefixes: string[] | undefined;

  /**
   * Copies every series' counts, sum and count now (call it for all HTTP families in one
   * synchronous stretch: one consistent snapshot per scrape); exemplars only for OpenMetrics.
   */
  snapshot(inner: MetricValue[], om: boolean): HistogramSnapshot {
    const series = [...this.series.values()];
    const n = this.upper.length;
    const k = n + 3;
    const data = new Float64Array(series.length * k);
    let exemplars: Array<ReadonlyArray<Exemplar | undefined> | undefined> | undefined;
    for (let i = 0; i < series.length; i++) {
      const s = series[i] as HistogramSeries;
      const at = i * k;
      const counts = s.counts;
      for (let b = 0; b <= n; b++) data[at + b] = counts[b] as number; // faster than set() per series
      data[at + n + 1] = s.sum;
      data[at + n + 2] = s.count;
      if (om && s.exemplars !== undefined) {
        exemplars ??= [];
        exemplars[i] = s.exemplars.slice();
      }
    }
    return { series, data, exemplars, inner };
  }

  /**
   * Writes a snapshot as one family; yields between slices. With `created` (OpenMetrics), a label
   * set that records a native histogram gets a `_created` line (the SDK knows when it created it).
   */
  async render(
    snap: HistogramSnapshot,
    w: SlicedWriter,
    om: boolean,
    d: DefaultLabels,
    created = false,
  ): Promise<void> {
    this.header(w, om, this.name);
    useDefaults(this.store, d);
    const k = this.upper.length + 3;
    const extra = snap.inner.length > 0 ? this.cumulate(snap.inner) : undefined;
    const { series, data, exemplars } = snap;
    for (let i = 0; i < series.length; i++) {
      const s = series[i] as HistogramSeries;
      let other: Cumulative | undefined;
      if (extra !== undefined) {
        const key = keyOf(s.labels);
        other = extra.get(key);
        if (other !== undefined) extra.delete(key);
      }
      const text = textOf(this.store, s.labels, d);
      const createdMs = created && om ? s.native?.createdMs : undefined;
      this.writeSeries(w, om, text, data, i * k, exemplars?.[i], other, createdMs);
      if (i % CHECK_EVERY === 0 && w.due()) await w.pause();
    }
    if (extra !== undefined) {
      for (const c of extra.values())
        this.writeSeries(w, om, labelBody(c.labels, d), undefined, 0, undefined, c);
    }
  }

  private writeSeries(
    w: SlicedWriter,
    om: boolean,
    body: string,
    data: Float64Array | undefined,
    at: number,
    ex: ReadonlyArray<Exemplar | undefined> | undefined,
    other: Cumulative | undefined,
    createdMs?: number,
  ): void {
    const n = this.upper.length;
    let prefixes = this.bucketPrefixes;
    if (prefixes === undefined) {
      prefixes = [];
      for (let b = 0; b <= n; b++) {
        prefixes.push(`${this.name}_bucket{le="${b < n ? floatLabel(this.upper[b] as number) : '+Inf'}"`);
      }
      this.bucketPrefixes = prefixes;
    }
    const tail = body === '' ? '} ' : `,${body}} `;
    let out = '';
    let acc = 0;
    for (let b = 0; b <= n; b++) {
      if (data !== undefined) acc += data[at + b] as number;
      out += `${prefixes[b]}${tail}${num(other === undefined ? acc : acc + (other.cum[b] as number))}`;
      if (om) {
        const a = ex?.[b];
        const c = other?.exemplars[b];
        out += exemplarText(a && c ? (a.timestamp >= c.timestamp ? a : c) : (a ?? c));
      }
      out += '\n';
    }
    const plain = body === '' ? ' ' : `{${body}} `;
    const sum = (data === undefined ? 0 : (data[at + n + 1] as number)) + (other?.sum ?? 0);
    const count = (data === undefined ? 0 : (data[at + n + 2] as number)) + (other?.count ?? 0);
    w.write(`${out}${this.name}_sum${plain}${num(sum)}\n${this.name}_count${plain}${num(count)}\n`);
    if (createdMs !== undefined) w.write(`${this.name}_created${plain}${createdMs / 1000}\n`);
  }

  /** The public API's series (prom-client's samples), as cumulative buckets by label set. */
  private cumulate(inner: readonly MetricValue[]): Map<string, Cumulative> {
    const n = this.upper.length;
    const extra = new Map<string, Cumulative>();
    const index = new Map<string, number>(this.upper.map((b, i) => [String(b), i]));
    index.set('+Inf', n);
    for (const v of inner) {
      const { le, ...labels } = v.labels;
      const key = keyOf(labels);
      let c = extra.get(key);
      if (c === undefined) {
        c = { labels, cum: new Array<number>(n + 1).fill(0), sum: 0, count: 0, exemplars: [] };
        extra.set(key, c);
      }
      const name = v.metricName ?? '';
      if (name.endsWith('_bucket')) {
        const i = index.get(String(le));
        if (i !== undefined) {
          c.cum[i] = v.value;
          c.exemplars[i] = v.exemplar;
        }
      } else if (name.endsWith('_sum')) c.sum = v.value;
      else if (name.endsWith('_count')) c.count = v.value;
    }
    return extra;
  }

  async get(): Promise<MetricObject> {
    const inner = (await this.inner.get()).values as MetricValue[];
    const extra = inner.length > 0 ? this.cumulate(inner) : undefined;
    const values: MetricValue[] = [];
    for (const [key, s] of this.series) {
      const other = extra?.get(key);
      if (other !== undefined) extra?.delete(key);
      this.push(values, s.labels, s, other);
    }
    if (extra) for (const c of extra.values()) this.push(values, c.labels, undefined, c);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  private push(
    values: MetricValue[],
    labels: Record<string, string | number>,
    s: HistogramSeries | undefined,
    other: Cumulative | undefined,
  ): void {
    const bucket = `${this.name}_bucket`;
    const n = this.upper.length;
    let acc = 0;
    for (let i = 0; i <= n; i++) {
      acc += s ? (s.counts[i] as number) : 0;
      const a = s?.exemplars?.[i];
      const b = other?.exemplars[i];
      values.push({
        labels: { le: i < n ? (this.upper[i] as number) : '+Inf', ...labels },
        value: acc + (other?.cum[i] ?? 0),
        metricName: bucket,
        exemplar: (a && b ? (a.timestamp >= b.timestamp ? a : b) : (a ?? b)) ?? null,
      });
    }
    values.push(
      { labels: { ...labels }, value: (s?.sum ?? 0) + (other?.sum ?? 0), metricName: `${this.name}_sum` },
      {
        labels: { ...labels },
        value: (s?.count ?? 0) + (other?.count ?? 0),
        metricName: `${this.name}_count`,
      },
    );
  }
}

/**
 * Creates the registered wrapper for an HTTP metric around an unregistered prom-client metric
 * (`inner`, created with `registers: []`), and registers it.
 */
export function registerHttpSeriesMetric(
  registry: RegistryLike,
  store: HttpStore,
  inner: Counter<string> | Histogram<string>,
  def: { name: string; help: string; labelNames: string[]; buckets?: readonly number[] },
  unprefixed: string,
  exemplars?: () => Record<string, string> | undefined,
  native?: NativeSettings,
): HttpCounterMetric | HttpHistogramMetric {
  const i = inner as unknown as Inner;
  let m: HttpCounterMetric | HttpHistogramMetric;
  if (unprefixed === 'http_requests_total') {
    m = new HttpCounterMetric(i, store, def);
    store.requests = m;
  } else {
    m = new HttpHistogramMetric(i, store, { ...def, buckets: def.buckets ?? [] }, exemplars, native);
    if (unprefixed === 'http_request_duration_seconds') store.duration = m;
    else if (unprefixed === 'http_request_size_bytes') store.requestSize = m;
    else store.responseSize = m;
  }
  // A metric object with name, help, type, aggregator, get() and reset() is what the registry reads.
  registry.registerMetric(m as unknown as Counter<string>);
  return m;
}
