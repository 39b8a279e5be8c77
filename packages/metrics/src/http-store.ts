import { type DefaultLabels, labelBody } from './exposition.js';
import type { NativeSeries } from './native-histogram.js';

/**
 * The HTTP core's own state: the series objects it updates per request (`http-series.ts` renders
 * and registers them) and what the in-flight and overflow gauges sum.
 */

export type HttpLabels = { method: string; route: string; status: string };

export interface CounterSeries {
  readonly labels: HttpLabels;
  value: number;
}

export interface Exemplar {
  labelSet: Record<string, string>;
  value: number;
  timestamp: number;
}

export interface HistogramSeries {
  readonly labels: HttpLabels;
  /** Per bucket, not cumulative; the last one is +Inf. */
  readonly counts: Float64Array;
  sum: number;
  count: number;
  exemplars: Array<Exemplar | undefined> | undefined;
  /** The native histogram of the label set, when the metric records one. */
  readonly native: NativeSeries | undefined;
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
  // The four HTTP metric objects (`requests`, `duration`, `requestSize`, `responseSize`) are
  // declared by http-series.ts, next to their classes, so that this module does not import it back.
  /**
   * The rendered labels of each label set (default labels included), shared by the four HTTP
   * families: one string per label set, gone with it (keyed by the SDK's own label objects).
   * Replaced when the default labels change (`labelTextKey`).
   */
  labelText: WeakMap<HttpLabels, string>;
  labelTextKey: string;
}

export const createHttpStore = (): HttpStore => ({
  epoch: 0,
  inFlight: new Set(),
  inFlightGauge: false,
  overflow: new Set(),
  labelText: new WeakMap(),
  labelTextKey: '',
});

/** The label text of a label set with these default labels, from the store (made on first use). */
export function textOf(store: HttpStore, labels: HttpLabels, d: DefaultLabels): string {
  let t = store.labelText.get(labels);
  if (t === undefined) {
    t = labelBody(labels, d);
    store.labelText.set(labels, t);
  }
  return t;
}

/** Starts rendering with these default labels: drops the label texts made with others. */
export function useDefaults(store: HttpStore, d: DefaultLabels): void {
  if (store.labelTextKey === d.key) return;
  store.labelTextKey = d.key;
  store.labelText = new WeakMap();
}

/** How many series are rendered between two looks at the slice's clock. */
export const CHECK_EVERY = 16;

const stores = new WeakMap<object, HttpStore>();
/** The store behind a `Metrics` handle (undefined for handles of another copy of this package). */
export const httpStoreOf = (metrics: object): HttpStore | undefined => stores.get(metrics);
export const setHttpStore = (metrics: object, store: HttpStore): void => {
  stores.set(metrics, store);
};
