import type { Counter, Histogram } from 'prom-client';
import { type DefaultLabels, exemplarText, labelBody, num } from './exposition.js';
import { HttpHistogramMetric } from './http-histogram.js';
import {
  HttpSeriesMetric,
  type Inner,
  keyOf,
  type MetricObject,
  type MetricValue,
} from './http-series-base.js';
import {
  CHECK_EVERY,
  type CounterSeries,
  type HttpLabels,
  type HttpStore,
  textOf,
  useDefaults,
} from './http-store.js';
import type { NativeSettings } from './native-histogram.js';
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

export { type HistogramSnapshot, HttpHistogramMetric } from './http-histogram.js';
export { isHttpSeriesMetric } from './http-series-base.js';
export {
  type CounterSeries,
  createHttpStore,
  type HistogramSeries,
  type HttpLabels,
  type HttpStore,
  httpStoreOf,
  setHttpStore,
} from './http-store.js';

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

/** A counter family copied for one scrape (`HttpCounterMetric.snapshot`). */
export interface CounterSnapshot {
  readonly series: readonly CounterSeries[];
  readonly values: Float64Array;
  readonly inner: readonly MetricValue[];
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
