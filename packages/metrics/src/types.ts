import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

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
  type: MetricType;
  /** One sentence for `# HELP`. */
  help: string;
  /** Base unit of the value: `seconds`, `bytes`, `ratio`, `tokens`, `usd` or `1` (a count). */
  unit: string;
  /** Label names, in order. */
  labelNames: readonly string[];
  /** Histogram buckets (upper bounds, strictly increasing). Required for histograms. */
  buckets?: readonly number[];
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
   * How a Node cluster's primary combines the workers' values (prom-client aggregators).
   * @default 'sum'
   */
  aggregator?: 'sum' | 'first' | 'min' | 'max' | 'average' | 'omit';
  /** The name the operations guides use for this series, when it differs. Shown in the docs. */
  guideName?: string;
  /** Why the guide name was changed, shown in the docs. */
  guideNote?: string;
}

/** Label object for a definition with label names `L`. */
export type Labels<L extends string> = Partial<Record<L, string | number>>;

/** A counter whose label values are guarded against unbounded cardinality. */
export interface CounterHandle<L extends string = string> {
  readonly definition: MetricDefinition;
  /** The underlying prom-client metric, for anything this handle does not cover. */
  readonly metric: Counter<L>;
  inc(labels?: Labels<L>, value?: number): void;
}

/** A gauge whose label values are guarded against unbounded cardinality. */
export interface GaugeHandle<L extends string = string> {
  readonly definition: MetricDefinition;
  readonly metric: Gauge<L>;
  set(labels: Labels<L>, value: number): void;
  inc(labels?: Labels<L>, value?: number): void;
  dec(labels?: Labels<L>, value?: number): void;
}

/** A histogram whose label values are guarded against unbounded cardinality. */
export interface HistogramHandle<L extends string = string> {
  readonly definition: MetricDefinition;
  readonly metric: Histogram<L>;
  observe(labels: Labels<L>, value: number): void;
  /** Starts a timer; call the returned function to observe the elapsed seconds. */
  startTimer(labels?: Labels<L>): (endLabels?: Labels<L>) => number;
}

/** Options of `createMetrics`. Defaults are in `DEFAULT_METRICS_OPTIONS`. */
export interface MetricsOptions {
  /**
   * Registry to register into. Pass your app's registry so `/metrics` shows everything; by
   * default a new registry is created (never prom-client's global one).
   */
  registry?: Registry;
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
  /** Where warnings go (duplicate clients, label overflow). @default process.emitWarning */
  warn?: (message: string) => void;
}

/** The subset of the prom-client module the SDK uses. Both packages satisfy it. */
export interface PromClientModule {
  Registry: typeof Registry;
  Counter: typeof Counter;
  Gauge: typeof Gauge;
  Histogram: typeof Histogram;
  collectDefaultMetrics: (config?: { register?: Registry; prefix?: string; labels?: object }) => void;
  AggregatorRegistry?: ClusterRegistryClass;
  ClusterRegistry?: ClusterRegistryClass;
}

/** The part of a `pg` Pool the pool gauges read. */
export interface PgPoolLike {
  readonly totalCount: number;
  readonly idleCount: number;
  readonly waitingCount: number;
  readonly options?: { max?: number };
}

/** `AggregatorRegistry` (prom-client) / `ClusterRegistry` (@prometheus-io/client). */
export interface ClusterRegistryClass {
  new (): Registry & { clusterMetrics(): Promise<string> };
  setRegistries(registries: Registry | Registry[]): void;
  /** A registry of the given `getMetricsAsJSON()` results, aggregated by each metric's `aggregator`. */
  aggregate(metricsArr: object[]): Registry;
}
