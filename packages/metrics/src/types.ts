// Structural types only: the published .d.ts never imports 'prom-client', so a project that has only
// '@prometheus-io/client' installed (or neither, type-checking a library) compiles. prom-client's and
// @prometheus-io/client's classes fit these interfaces.

/** One metric as `getMetricsAsJSON()` / `metric.get()` return it. */
export interface MetricJsonLike {
  name: string;
  help: string;
  /** `'counter'`, `'gauge'`, `'histogram'` or `'summary'` (prom-client declares it as an enum). */
  type: string | number;
  values: Array<{ value: number; labels: Partial<Record<string, string | number>>; metricName?: string }>;
  aggregator?: string;
}

/**
 * The part of a prom-client `Registry` the SDK uses and exposes. A prom-client or
 * @prometheus-io/client `Registry` fits; to hand `metrics.registry` to an API typed with the
 * client's own `Registry` class, pass your own registry to `createMetrics({ registry })` and keep
 * your typed reference (or cast).
 */
export interface RegistryLike {
  metrics(): Promise<string>;
  readonly contentType: string;
  getMetricsAsJSON(): Promise<MetricJsonLike[]>;
  getSingleMetric(name: string): object | undefined;
  getSingleMetricAsString(name: string): Promise<string>;
  registerMetric(metric: object): void;
  removeSingleMetric(name: string): void;
  setDefaultLabels(labels: object): void;
  resetMetrics(): void;
  clear(): void;
}

/** The prom-client metric under a counter handle. */
export interface CounterLike<L extends string = string> {
  inc(labels: Partial<Record<L, string | number>>, value?: number): void;
  get(): Promise<MetricJsonLike>;
  reset(): void;
  remove(labels: Partial<Record<L, string | number>>): void;
}

/** The prom-client metric under a gauge handle. */
export interface GaugeLike<L extends string = string> {
  set(labels: Partial<Record<L, string | number>>, value: number): void;
  inc(labels: Partial<Record<L, string | number>>, value?: number): void;
  dec(labels: Partial<Record<L, string | number>>, value?: number): void;
  get(): Promise<MetricJsonLike>;
  reset(): void;
  remove(labels: Partial<Record<L, string | number>>): void;
}

/** The prom-client metric under a histogram handle. */
export interface HistogramLike<L extends string = string> {
  observe(labels: Partial<Record<L, string | number>>, value: number): void;
  get(): Promise<MetricJsonLike>;
  reset(): void;
  remove(labels: Partial<Record<L, string | number>>): void;
}

/** The metric families the catalog knows. */
export type MetricType = 'counter' | 'gauge' | 'histogram';

/** Catalog groups; each can be switched off with `groups`. */
export type MetricGroup =
  | 'http'
  | 'process'
  | 'bots'
  | 'tasks'
  | 'database'
  | 'cache'
  | 'llm'
  | 'dependencies'
  | 'connections'
  | 'tracing'
  | 'health';

/**
 * One metric, defined once. The middleware, health checks, alert rules, dashboards and
 * `docs/metrics.md` all read these definitions, so names cannot drift.
 */
export interface MetricDefinition {
  /** Prometheus name without prefix, in base units, counters ending in `_total`. */
  name: string;
  /** The Prometheus type; a histogram needs `buckets`. */
  type: MetricType;
  /** One sentence for `# HELP`. */
  help: string;
  /** Base unit of the value: `seconds`, `bytes`, `ratio`, `tokens`, `usd` or `1` (a count). */
  unit: string;
  /** Label names, in order. */
  labelNames: readonly string[];
  /** Histogram buckets (upper bounds, strictly increasing). Required for histograms. */
  buckets?: readonly number[];
  /**
   * Record a native (sparse, exponential) histogram too: `true` for the defaults
   * (`DEFAULT_NATIVE_HISTOGRAM_OPTIONS`), an object to tune it, `false` to opt this histogram out
   * of `createMetrics({ nativeHistograms })`. Histograms only.
   * @default undefined (follows the `nativeHistograms` option of `createMetrics`)
   */
  nativeHistogram?: boolean | NativeHistogramOptions;
  /** Group it belongs to (user metrics: any group, default `custom`). */
  group: MetricGroup | 'custom';
  /**
   * Allowed values per label. A value outside the list is recorded as `other`, so a caller can
   * never create an unbounded number of series.
   */
  labelValues?: Readonly<Record<string, readonly string[]>>;
  /**
   * At most this many distinct values per label (labels without `labelValues`); later values are
   * recorded as `__overflow__`. Defaults to the `maxLabelValues` option of `createMetrics`
   * (`DEFAULT_METRICS_OPTIONS.maxLabelValues`, 100).
   */
  maxLabelValues?: number;
  /**
   * At most this many live label sets (series) for a metric with a label without `labelValues`;
   * a recording of a further label set is recorded in the metric's overflow series (every such
   * label `__overflow__`) and counted in `metric_series_dropped_total{reason="budget"}`. Defaults
   * to the `maxSeriesPerMetric` option of `createMetrics` (1000).
   */
  maxSeries?: number;
  /**
   * How a Node cluster's primary combines the workers' values (prom-client aggregators).
   * @default 'sum'
   */
  aggregator?: 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';
  /** The name the operations guides use for this series, when it differs. Shown in the docs. */
  guideName?: string;
  /** Why the guide name was changed, shown in the docs. */
  guideNote?: string;
  /**
   * Set on a series kept only for compatibility: what replaces it (a series name or a PromQL
   * expression). It is still recorded; the docs mark it deprecated and name the replacement.
   */
  deprecated?: string;
  /**
   * Alerts `@deia/ops` generates for this metric (extra metrics; the catalog's own alerts are
   * written in the generator), each with its promtool test cases. A warning and a critical with
   * the same `name` make a pair (the critical silences the warning of the same object).
   */
  alerts?: readonly MetricAlert[];
}

/**
 * An alert on one metric, compared with a fixed threshold:
 * - `increase` (counter): events in `window`, summed by `by`;
 * - `rate` (counter): events per second over `window`, summed by `by`;
 * - `value` (gauge): the largest value by `by` (the smallest with `below`);
 * - `quantile` (histogram): `histogram_quantile(quantile)` over `window` by `by`; `threshold` must
 *   be a bucket bound (not the last), and the alert stays quiet below `thresholds.minRequestRate`
 *   observations per second.
 */
export interface MetricAlert {
  /** Alert name, PascalCase (`PaymentFailures`). */
  name: string;
  /** What is compared with `threshold` (see above); it must fit the metric's type. */
  over: 'increase' | 'rate' | 'value' | 'quantile';
  /**
   * The limit: events (`increase`), events per second (`rate`), the gauge's value (`value`) or
   * the quantile in the metric's unit (`quantile`, a bucket bound).
   */
  threshold: number;
  /** Fire when the value is below the threshold (gauges only). @default false (above) */
  below?: boolean;
  /** @default 'warning' */
  severity?: 'critical' | 'warning' | 'info';
  /** Quantile of `over: 'quantile'`, between 0 and 1. @default 0.95 */
  quantile?: number;
  /** Range of `increase`, `rate` and `quantile`, a Prometheus duration. @default '5m' */
  window?: string;
  /** `for:` of the rule. @default '5m' */
  for?: string;
  /** Labels of the metric kept on the alert besides `job` (the object it is about). @default [] */
  by?: readonly string[];
  /** Summary annotation. @default generated from the help text */
  summary?: string;
}

/**
 * Label object for a metric with label names `L`: every label the metric declares is required (a
 * missing one would silently create a different series). Values outside a label's `labelValues`,
 * or beyond its cap, are recorded as `other` / `__overflow__`.
 */
export type Labels<L extends string> = Record<L, string | number>;

/** `inc()`/`dec()` arguments: the labels are optional only when the metric has none. */
export type IncArgs<L extends string> = [L] extends [never]
  ? [labels?: Labels<L>, value?: number]
  : [labels: Labels<L>, value?: number];

/** A counter whose label values are guarded against unbounded cardinality. */
export interface CounterHandle<L extends string = string> {
  /** The definition the metric was registered from (name without prefix). */
  readonly definition: MetricDefinition;
  /** The underlying prom-client metric, for anything this handle does not cover. */
  readonly metric: CounterLike<L>;
  /** Adds `value` (default 1) to the series of the guarded `labels`; prom-client throws if it is negative. */
  inc(...args: IncArgs<L>): void;
  /**
   * Removes every series of this metric whose labels include all of `labels` (prom-client's public
   * `remove()`), e.g. `{ bot_id: 'b1' }` when the bot is deleted, and frees their values under the
   * label caps and their places in the series budget. Returns how many series were removed.
   */
  remove(labels: Partial<Labels<L>>): number;
}

/** A gauge whose label values are guarded against unbounded cardinality. */
export interface GaugeHandle<L extends string = string> {
  /** The definition the metric was registered from (name without prefix). */
  readonly definition: MetricDefinition;
  /** The underlying prom-client metric, for anything this handle does not cover. */
  readonly metric: GaugeLike<L>;
  /** Sets the series of the guarded `labels` to `value`; prom-client throws when it is not a number. */
  set(labels: Labels<L>, value: number): void;
  /** Adds `value` (default 1) to the series of the guarded `labels`. */
  inc(...args: IncArgs<L>): void;
  /** Subtracts `value` (default 1) from the series of the guarded `labels`. */
  dec(...args: IncArgs<L>): void;
  /**
   * Removes every series of this metric whose labels include all of `labels` (prom-client's public
   * `remove()`), e.g. `{ bot_id: 'b1' }` when the bot is deleted, and frees their values under the
   * label caps and their places in the series budget. Returns how many series were removed.
   */
  remove(labels: Partial<Labels<L>>): number;
}

/** A histogram whose label values are guarded against unbounded cardinality. */
export interface HistogramHandle<L extends string = string> {
  /** The definition the metric was registered from (name without prefix). */
  readonly definition: MetricDefinition;
  /** The underlying prom-client metric, for anything this handle does not cover. */
  readonly metric: HistogramLike<L>;
  /**
   * Records `value` (in the metric's unit) in the series of the guarded `labels`, with an exemplar
   * when `exemplars` is set; prom-client throws on a value that is not a finite number.
   */
  observe(labels: Labels<L>, value: number): void;
  /**
   * Starts a timer; call the returned function to observe the elapsed seconds. The labels may be
   * split between the start and the end (e.g. `outcome` known only at the end).
   */
  startTimer(labels?: Partial<Labels<L>>): (endLabels?: Partial<Labels<L>>) => number;
  /**
   * Removes every series of this metric whose labels include all of `labels` (prom-client's public
   * `remove()`), e.g. `{ bot_id: 'b1' }` when the bot is deleted, and frees their values under the
   * label caps and their places in the series budget. Returns how many series were removed.
   */
  remove(labels: Partial<Labels<L>>): number;
}

/**
 * Settings of a native (sparse, exponential) histogram, with client_golang's meaning (its
 * `NativeHistogram*` options). Defaults are in `DEFAULT_NATIVE_HISTOGRAM_OPTIONS`.
 */
export interface NativeHistogramOptions {
  /**
   * Largest growth factor from one bucket boundary to the next, > 1. The schema chosen is the one
   * with the largest factor `2^(2^-schema)` not above it (1.1 -> schema 3, factor 1.0905; 65536
   * and more -> schema -4; below 1.0027 -> schema 8). @default 1.1
   */
  bucketFactor?: number;
  /**
   * Observations with `|v| <=` this are counted in the zero bucket. 0 makes the zero bucket
   * count exact zeros only. @default 2 ** -128
   */
  zeroThreshold?: number;
  /**
   * Most populated buckets per label set (positive and negative, not the zero bucket); 0 for no
   * limit. Past it, one step per new bucket: reset the series (when `minResetDurationMs` allows),
   * else widen the zero bucket (up to `maxZeroThreshold`), else halve the resolution. @default 160
   */
  maxBucketNumber?: number;
  /**
   * A series is reset (all counts to 0, resolution restored) to stay within `maxBucketNumber` only
   * when its last reset is at least this old; 0 never resets. A reset resets the classic buckets,
   * count and sum of that label set too (as client_golang's one histogram does). @default 0
   */
  minResetDurationMs?: number;
  /** The zero bucket is widened to at most this threshold; at or below `zeroThreshold` never. @default 0 */
  maxZeroThreshold?: number;
  /** Exemplars kept per label set (needs the `exemplars` option); 0 keeps none. @default 10 */
  maxExemplars?: number;
  /** A full exemplar list replaces its oldest exemplar once it is this old. @default 300000 (5 min) */
  exemplarTtlMs?: number;
  /**
   * Keep the classic buckets beside the native ones (text and OpenMetrics scrapes, existing
   * dashboards). `false` keeps only `_count`, `_sum` and the `+Inf` bucket in classic form, as
   * client_golang does for a native-only histogram. @default true
   */
  classicBuckets?: boolean;
}

/** Options of `createMetrics`. Defaults are in `DEFAULT_METRICS_OPTIONS`. */
export interface MetricsOptions {
  /**
   * Registry to register into. Pass your app's registry so `/metrics` shows everything; by
   * default a new registry is created (never prom-client's global one).
   */
  registry?: RegistryLike;
  /**
   * The prometheus client module to use (`prom-client` or `@prometheus-io/client`). By default the
   * one that is installed is loaded; pass it when both are, or to be explicit.
   */
  client?: PromClientModule;
  /** Prefix for every name, e.g. `deia_`. Must match `[a-zA-Z_:][a-zA-Z0-9_:]*` or be empty. @default '' */
  prefix?: string;
  /** Labels added to every series (e.g. `{ service: 'bot-controller' }`). @default {} */
  defaultLabels?: Record<string, string>;
  /** Groups to register; others are left out. @default every group */
  groups?: readonly MetricGroup[];
  /** Override buckets per metric name (without prefix). */
  buckets?: Record<string, readonly number[]>;
  /**
   * Native (sparse, exponential) histograms for every histogram whose definition does not set
   * `nativeHistogram`: `true` with the defaults (`DEFAULT_NATIVE_HISTOGRAM_OPTIONS`), or settings.
   * They are exposed in the protobuf format, beside the classic buckets unless `classicBuckets`
   * is false. @default false
   */
  nativeHistograms?: boolean | NativeHistogramOptions;
  /**
   * Per histogram name (without prefix), overrides `nativeHistograms` and the definition's
   * `nativeHistogram` (e.g. `{ http_request_duration_seconds: true }` for a catalog histogram).
   */
  nativeHistogramsFor?: Record<string, boolean | NativeHistogramOptions>;
  /** Extra user metrics in the catalog format; they get the same guards, docs and rule support. */
  extraMetrics?: readonly MetricDefinition[];
  /** Collect prom-client's default process metrics (needs the `process` group). @default true */
  defaultMetrics?: boolean;
  /** Values of the build-info gauge. `node_version` is always `process.version`. */
  buildInfo?: { version?: string; commit?: string };
  /** Default cap of distinct values per label. @default 100 */
  maxLabelValues?: number;
  /**
   * Exemplar provider: called on every histogram observation; the labels it returns (for example
   * `{ trace_id, span_id }` of the active span, see `@deia/tracing`'s `traceExemplar`) are attached
   * as an exemplar. Exemplars need an OpenMetrics registry: when set, the registry the SDK creates
   * uses the OpenMetrics format (Prometheus scrapes it natively), and a passed registry must be one.
   * Unset, histograms are created without exemplar support and cost nothing extra. @default undefined
   */
  exemplars?: () => Record<string, string> | undefined;
  /**
   * Where warnings go as plain text (duplicate clients, label overflow). Without it they go to
   * `logger.warn` when a logger is given, else to `process.emitWarning`. @default process.emitWarning
   */
  warn?: (message: string) => void;
  /**
   * A pino-compatible logger (`pino()`, or any `{ warn(obj, msg) }`): the SDK's warnings become
   * structured log lines (`logger.warn({ metric, label }, msg)`), label and route overflow
   * included; `@deia/express` and `@deia/fastify` use it when they are given no `logger` of their
   * own. @default undefined (warnings go to `warn`, else `process.emitWarning`)
   */
  logger?: MetricsLogger;
  /**
   * Cap of live label sets per metric with a label without declared values (a bot id, a model,
   * a reason), unless its definition sets `maxSeries`. Further label sets are recorded in one
   * overflow series per metric (free labels `__overflow__`, declared labels kept), so sums stay
   * right; each such recording is counted in `metric_series_dropped_total{reason="budget"}`.
   * Removed and expired series free their places. @default 1000
   */
  maxSeriesPerMetric?: number;
  /**
   * Idle time-to-live of label sets of metrics with a label without declared values: a series not
   * recorded for this many seconds is removed (prom-client `remove()`), its values freed under the
   * caps, and counted in `metric_series_dropped_total{reason="expired"}`. Checked by one unref'd
   * timer per handle every `max(1, min(60, ttl / 4))` seconds, stopped by `shutdown()`; a series
   * goes between `ttl` and `ttl` + one check interval after its last recording. A counter that
   * comes back starts again at 0 (`rate()` and `increase()` handle that as a reset). Samplers
   * (`observePgPool`, `observeQueue`) record at every scrape, so their series do not expire while
   * they are scraped. @default undefined (off: series live until removed)
   */
  seriesTtlSeconds?: number;
}

/** The logger `createMetrics` accepts: pino, or anything with pino's `warn(obj, msg)`. */
export interface MetricsLogger {
  warn(obj: object, msg: string): void;
}

/**
 * The subset of the prom-client module the SDK uses: the namespace import (`import * as client`) of
 * prom-client or of @prometheus-io/client fits. Constructor parameters are `never` so both clients' own parameter types fit.
 */
export interface PromClientModule {
  /** The registry class; `createMetrics` makes one (OpenMetrics with `exemplars`) unless given `registry`. */
  Registry: (new (contentType?: never) => RegistryLike) & { readonly OPENMETRICS_CONTENT_TYPE: string };
  /** The counter class under every `CounterHandle`. */
  Counter: new (
    configuration: never,
  ) => CounterLike;
  /** The gauge class under every `GaugeHandle`. */
  Gauge: new (
    configuration: never,
  ) => GaugeLike;
  /** The histogram class under every `HistogramHandle`. */
  Histogram: new (
    configuration: never,
  ) => HistogramLike;
  /** Registers the client's process metrics; `createMetrics` calls it once per registry and prefix. */
  collectDefaultMetrics(config?: { register?: RegistryLike; prefix?: string; labels?: object }): void;
  /** prom-client's cluster registry; used when `ClusterRegistry` is absent. */
  AggregatorRegistry?: ClusterRegistryClass;
  /**
   * @prometheus-io/client's cluster registry, preferred. With neither, the cluster functions throw
   * `DEIA_NO_CLUSTER_REGISTRY`.
   */
  ClusterRegistry?: ClusterRegistryClass;
}

/**
 * The part of a `pg` Pool the pool gauges read; a `pg.Pool` fits. `@deia/health`'s `PgPoolLike`
 * (what `postgresCheck` takes) is a superset of it (adds `connect()` and `on('error')`), so one
 * pool fits both.
 */
export interface PgPoolLike {
  /** Clients the pool holds, idle or checked out; minus `idleCount` it is `db_connection_pool_active`. */
  readonly totalCount: number;
  /** Clients connected and not checked out (`db_connection_pool_idle`). */
  readonly idleCount: number;
  /** Callers queued for a client (`db_connection_pool_waiting`). */
  readonly waitingCount: number;
  /** The pool's settings; `max` is its size (`db_connection_pool_max`; 10, pg's default, when absent). */
  readonly options?: { max?: number };
}

/** `AggregatorRegistry` (prom-client) / `ClusterRegistry` (@prometheus-io/client). */
export interface ClusterRegistryClass {
  /**
   * A cluster registry; constructing one installs the client's own worker listener, and in the
   * primary its `clusterMetrics()` answers every worker's metrics, aggregated.
   */
  new (): RegistryLike & { clusterMetrics(): Promise<string> };
  /** Sets the registries a worker answers the client's own cluster requests with (`shareWithCluster`). */
  setRegistries(registries: RegistryLike | RegistryLike[]): void;
  /** A registry of the given `getMetricsAsJSON()` results, aggregated by each metric's `aggregator`. */
  aggregate(metricsArr: object[]): RegistryLike;
}
