import { type DefaultLabels, exemplarText, floatLabel, labelBody, num } from './exposition.js';
import {
  HttpSeriesMetric,
  type Inner,
  keyOf,
  type MetricObject,
  type MetricValue,
} from './http-series-base.js';
import {
  CHECK_EVERY,
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

/**
 * The HTTP histograms (`http_request_duration_seconds` and the size histograms): the HTTP core's
 * `record` fast path, the public-API forwarding, and the snapshot, render and `get()` that merge
 * the core's series with the public API's (see `http-series.ts`).
 */

/** A histogram family copied for one scrape (`HttpHistogramMetric.snapshot`). */
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
