import type { AnyHandle } from './handles.js';
import type { CounterSeries, HistogramSeries, HttpLabels, HttpStore } from './http-series.js';
import type { Metrics } from './metrics-types.js';
import type { CounterHandle, HistogramHandle } from './types.js';

/**
 * Status/size recording: where one finished request's count, duration and sizes go. With the store
 * of the `createMetrics()` handle, requests are recorded straight into its series objects; a metric
 * that is not the store's (registered by another copy of this package, say) is recorded through
 * its public handle instead.
 */

/** One label set of the HTTP metrics as the core caches it, with the store's series objects for it. */
export interface Series {
  readonly labels: HttpLabels;
  /** The store's epoch the direct series below belong to. */
  epoch: number;
  c: CounterSeries | undefined;
  d: HistogramSeries | undefined;
  rq: HistogramSeries | undefined;
  rs: HistogramSeries | undefined;
}

/** `attach` fills a `Series` with the store's series objects; `record` adds one request to it. */
export interface HttpRecorder {
  attach(s: Series): void;
  record(s: Series, seconds: number, requestBytes: number, responseBytes: number): void;
}

/**
 * Creates the recorder for one observer on `metrics`; `store` is the handle's HTTP store, if it has
 * one. `record` looks a series' objects up again after the store dropped them (`reset()`,
 * `remove()`); it never throws for a metric that is switched off (it is skipped).
 */
export function createHttpRecorder(metrics: Metrics, store: HttpStore | undefined): HttpRecorder {
  const direct = {
    requests: store?.requests,
    duration: store?.duration,
    requestSize: store?.requestSize,
    responseSize: store?.responseSize,
  };
  const handle = <H extends AnyHandle>(name: string, own: unknown): H | undefined =>
    own === undefined && metrics.has(name) ? metrics.get<H>(name) : undefined;
  const publicApi = {
    requests: handle<CounterHandle<string>>('http_requests_total', direct.requests),
    duration: handle<HistogramHandle<string>>('http_request_duration_seconds', direct.duration),
    requestSize: handle<HistogramHandle<string>>('http_request_size_bytes', direct.requestSize),
    responseSize: handle<HistogramHandle<string>>('http_response_size_bytes', direct.responseSize),
  };
  const attach = (s: Series): void => {
    s.epoch = store?.epoch ?? 0;
    s.c = direct.requests?.seriesFor(s.labels);
    s.d = direct.duration?.seriesFor(s.labels);
    s.rq = direct.requestSize?.seriesFor(s.labels);
    s.rs = direct.responseSize?.seriesFor(s.labels);
  };
  const record = (s: Series, seconds: number, requestBytes: number, responseBytes: number): void => {
    if (store !== undefined && s.epoch !== store.epoch) attach(s); // reset() or remove() dropped them
    if (s.c !== undefined) s.c.value += 1;
    else publicApi.requests?.inc(s.labels);
    if (s.d !== undefined) direct.duration?.record(s.d, seconds, true);
    else publicApi.duration?.observe(s.labels, seconds);
    if (s.rq !== undefined) direct.requestSize?.record(s.rq, requestBytes, false);
    else publicApi.requestSize?.observe(s.labels, requestBytes);
    if (s.rs !== undefined) direct.responseSize?.record(s.rs, responseBytes, false);
    else publicApi.responseSize?.observe(s.labels, responseBytes);
  };
  return { attach, record };
}

/**
 * The in-flight gauge: `counter` is a plain integer per observer that the store's gauge sums at
 * scrape time (added to the store here; `close` removes it); without the store's gauge, `gauge` is
 * the registered gauge's public handle, to `inc()`/`dec()` per request.
 */
export function inFlightOf(
  metrics: Metrics,
  store: HttpStore | undefined,
): { counter: { count: number }; gauge: Metrics['http']['inFlight'] | undefined } {
  const counter = { count: 0 };
  const gauge =
    store?.inFlightGauge === true || !metrics.has('http_requests_in_flight')
      ? undefined
      : metrics.http.inFlight;
  if (gauge === undefined) store?.inFlight.add(counter);
  return { counter, gauge };
}
