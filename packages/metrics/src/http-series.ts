import type { Counter, Histogram } from 'prom-client';
import type { RegistryLike } from './types.js';

/**
 * The HTTP RED series live here, in plain objects the HTTP core updates directly (no label
 * validation or hashing per request), and reach the registry through prom-client's public metric
 * contract: each HTTP metric is registered with `registry.registerMetric()` as an object with
 * `name`, `help`, `type`, `aggregator`, `get()` and `reset()`: what `Registry#metrics()`,
 * `getMetricsAsJSON()` and the cluster aggregator call. Calls made through the public API
 * (`handle.inc()`, `metric.observe()`, app code) go to an unregistered prom-client metric of the
 * same name and labels; `get()` merges both, so a label set recorded both ways is one series.
 */

/** The metrics whose series the HTTP core records directly. */
export const HTTP_SERIES_METRICS: ReadonlySet<string> = new Set([
  'http_requests_total',
  'http_request_duration_seconds',
  'http_request_size_bytes',
  'http_response_size_bytes',
]);

/** Marks the registered wrapper (also across copies of this package sharing one registry). */
const BRAND = Symbol.for('@deia/metrics.httpSeriesMetric');

export type HttpLabels = { method: string; route: string; status: string };

export interface CounterSeries {
  readonly labels: HttpLabels;
  value: number;
}

interface Exemplar {
  labelSet: Record<string, string>;
  value: number;
  timestamp: number;
}

export interface HistogramSeries {
  readonly labels: HttpLabels;
  /** Label objects of its samples (n+1 buckets, then sum/count), made once and reused by get(). */
  sampleLabels: Array<Record<string, string | number>> | undefined;
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
  exemplars: Array<Exemplar | undefined> | undefined;
}

/** Shared by the HTTP metrics of one `createMetrics()` call and every HTTP observer on it. */
export interface HttpStore {
  /** Bumped when a series object is dropped (`reset()`, `remove()`): observers then look theirs up again. */
  epoch: number;
  /** In-flight counts of the observers; the in-flight gauge sums them at scrape time. */
  readonly inFlight: Set<{ count: number }>;
  /** True when the in-flight gauge was created with the collect that sums `inFlight`. */
  inFlightGauge: boolean;
  /** Overflowed route templates of the observers; `http_routes_overflowed` sums them. */
  readonly overflow: Set<{ count: number }>;
  requests?: HttpCounterMetric;
  duration?: HttpHistogramMetric;
  requestSize?: HttpHistogramMetric;
  responseSize?: HttpHistogramMetric;
}

export const createHttpStore = (): HttpStore => ({
  epoch: 0,
  inFlight: new Set(),
  inFlightGauge: false,
  overflow: new Set(),
});

const stores = new WeakMap<object, HttpStore>();
/** The store behind a `Metrics` handle (undefined for handles of another copy of this package). */
export const httpStoreOf = (metrics: object): HttpStore | undefined => stores.get(metrics);
export const setHttpStore = (metrics: object, store: HttpStore): void => {
  stores.set(metrics, store);
};

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

  async get(): Promise<MetricObject> {
    const inner = (await this.inner.get()).values as MetricValue[];
    const values: MetricValue[] = [];
    let extra: Map<string, MetricValue> | undefined;
    if (inner.length > 0) extra = new Map(inner.map((v) => [keyOf(v.labels), v]));
    for (const [key, s] of this.series) {
      const other = extra?.get(key);
      if (other !== undefined) extra?.delete(key);
      // the series' own labels object, as prom-client returns its entries' (stable across scrapes)
      values.push({ labels: s.labels, value: s.value + (other?.value ?? 0) });
    }
    if (extra) for (const v of extra.values()) values.push(v);
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
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
  ) {
    super(inner, store, config);
    this.upper = [...config.buckets];
  }

  protected create(labels: HttpLabels): HistogramSeries {
    return {
      labels,
      sampleLabels: undefined,
      counts: new Float64Array(this.upper.length + 1),
      sum: 0,
      count: 0,
      exemplars: undefined,
    };
  }

  /** The HTTP core's hot path: one bucket search and three additions. */
  record(s: HistogramSeries, v: number, exemplar: boolean): void {
    const upper = this.upper;
    const n = upper.length;
    let i = 0;
    while (i < n && v > (upper[i] as number)) i++;
    s.counts[i] = (s.counts[i] as number) + 1;
    s.sum += v;
    s.count += 1;
    if (exemplar && this.exemplarLabels !== undefined) {
      const labelSet = this.exemplarLabels();
      if (labelSet === undefined) return;
      let size = 0;
      for (const k in labelSet) size += k.length + String(labelSet[k]).length;
      // OpenMetrics caps an exemplar's label set at 128 characters; prom-client throws, we skip it
      if (size === 0 || size > 128) return;
      s.exemplars ??= [];
      s.exemplars[i] = { labelSet, value: v, timestamp: Date.now() / 1000 };
    }
  }

  observe(...args: unknown[]): void {
    (this.inner.observe as (...a: unknown[]) => void)(...args);
  }
  startTimer(...args: unknown[]): unknown {
    return (this.inner.startTimer as (...a: unknown[]) => unknown)(...args);
  }
  zero(...args: unknown[]): void {
    (this.inner.zero as (...a: unknown[]) => void)(...args);
  }

  async get(): Promise<MetricObject> {
    const n = this.upper.length;
    const inner = (await this.inner.get()).values as MetricValue[];
    let extra: Map<string, Cumulative> | undefined;
    if (inner.length > 0) {
      extra = new Map();
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
    }
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
    let ls = s?.sampleLabels;
    if (ls === undefined) {
      ls = [];
      for (let i = 0; i <= n; i++) ls.push({ le: i < n ? (this.upper[i] as number) : '+Inf', ...labels });
      ls.push({ ...labels });
      if (s) s.sampleLabels = ls;
    }
    let acc = 0;
    for (let i = 0; i <= n; i++) {
      acc += s ? (s.counts[i] as number) : 0;
      const a = s?.exemplars?.[i];
      const b = other?.exemplars[i];
      values.push({
        labels: ls[i] as Record<string, string | number>,
        value: acc + (other?.cum[i] ?? 0),
        metricName: bucket,
        exemplar: (a && b ? (a.timestamp >= b.timestamp ? a : b) : (a ?? b)) ?? null,
      });
    }
    const plain = ls[n + 1] as Record<string, string | number>;
    values.push(
      { labels: plain, value: (s?.sum ?? 0) + (other?.sum ?? 0), metricName: `${this.name}_sum` },
      { labels: plain, value: (s?.count ?? 0) + (other?.count ?? 0), metricName: `${this.name}_count` },
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
): HttpCounterMetric | HttpHistogramMetric {
  const i = inner as unknown as Inner;
  let m: HttpCounterMetric | HttpHistogramMetric;
  if (unprefixed === 'http_requests_total') {
    m = new HttpCounterMetric(i, store, def);
    store.requests = m;
  } else {
    m = new HttpHistogramMetric(i, store, { ...def, buckets: def.buckets ?? [] }, exemplars);
    if (unprefixed === 'http_request_duration_seconds') store.duration = m;
    else if (unprefixed === 'http_request_size_bytes') store.requestSize = m;
    else store.responseSize = m;
  }
  // A metric object with name, help, type, aggregator, get() and reset() is what the registry reads.
  registry.registerMetric(m as unknown as Counter<string>);
  return m;
}
