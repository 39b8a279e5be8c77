import { type AnyHandle, createHandle, type HandleContext, type TrackedMetric } from './handles.js';
import { createHttpStore, type HttpStore } from './http-series.js';
import type { DropReason } from './label-sets.js';
import type { ResolvedMetricsOptions } from './metrics-options.js';
import { nativeRegistryFor, resolveNative } from './native-store.js';
import type { CounterHandle, GaugeHandle, GaugeLike, MetricDefinition, MetricsOptions } from './types.js';

/**
 * Metric registration: creates the handle of every definition in the registry, with the collect
 * functions that fill the sampled gauges, the in-flight and route-overflow gauges at scrape time;
 * and the idle sweep that expires label sets not recorded for `seriesTtlSeconds`.
 */

/** Reads a value into a gauge at scrape time. */
export type Sampler = () => void;

/** A handle by unprefixed name, or a no-op handle when the metric is not registered. */
export type Opt = <H extends AnyHandle>(name: string) => H;

/** The gauges filled by samplers at scrape time. */
const SAMPLED = [
  'process_uptime_seconds',
  'bot_instances',
  'bot_instances_max',
  'task_queue_depth',
  'db_connection_pool_active',
  'db_connection_pool_idle',
  'db_connection_pool_waiting',
  'db_connection_pool_max',
];

// Handles of switched-off groups are no-ops, so domain helpers never throw at runtime.
const noop = {
  inc() {},
  set() {},
  dec() {},
  observe() {},
  remove: () => 0,
  startTimer: () => () => 0,
} as unknown as AnyHandle;

/** What `registerCatalog` created: the handles and the state the rest of `createMetrics` uses. */
export interface Registered {
  /** Unprefixed name -> handle, for every registered definition. */
  readonly handles: Map<string, AnyHandle>;
  /** `handles.get(name)`, else a no-op handle. */
  readonly opt: Opt;
  /** The metrics whose label sets are tracked (for `removeSeries` and the idle sweep). */
  readonly tracked: Map<string, TrackedMetric>;
  /** The idle clock the label sets stamp; the sweeper advances it. */
  readonly clock: { tick: number };
  /** Where the HTTP core records (see `http-series.ts`). */
  readonly httpStore: HttpStore;
  /** Adds a sampler to a sampled gauge; ignored when the gauge is not registered. */
  addSampler(metric: string, s: Sampler): void;
  /** Drops every sampler (`shutdown`). */
  clearSamplers(): void;
}

/**
 * Registers `definitions` (already resolved and checked) in the registry of `resolved`. A sampled
 * gauge's collect runs its samplers, each guarded (a throwing one is reported through `warn`); the
 * in-flight and overflow gauges sum the observers' counts of the HTTP store. Label-set overflow is
 * logged through `log`, dropped recordings counted in `metric_series_dropped_total`.
 */
export function registerCatalog(
  resolved: ResolvedMetricsOptions,
  options: MetricsOptions,
  definitions: readonly MetricDefinition[],
): Registered {
  const { warn, prefix, registry } = resolved;
  const handles = new Map<string, AnyHandle>();
  const opt: Opt = <H extends AnyHandle>(name: string): H => (handles.get(name) ?? noop) as H;
  const samplers = new Map<string, Sampler[]>();
  const sampleInto = (metric: string) =>
    function collect() {
      for (const s of samplers.get(metric) ?? []) {
        try {
          s();
        } catch (err) {
          warn(`@deia/metrics: a sampler of ${metric} threw: ${(err as Error).message}`);
        }
      }
    };
  const addSampler = (metric: string, s: Sampler) => {
    if (!handles.has(metric)) return;
    const list = samplers.get(metric) ?? [];
    list.push(s);
    samplers.set(metric, list);
  };

  const httpStore = createHttpStore();
  const inFlightCollect = summing(httpStore.inFlight);
  const overflowCollect = summing(httpStore.overflow);
  const tracked = new Map<string, TrackedMetric>();
  const clock = { tick: 0 };
  const ctx = handleContext(resolved, options, definitions, { httpStore, tracked, clock, opt });
  const sampled = new Set(SAMPLED);
  httpStore.inFlightGauge =
    definitions.some((d) => d.name === 'http_requests_in_flight') &&
    !registry.getSingleMetric(`${prefix}http_requests_in_flight`);
  for (const def of definitions) {
    const collect = sampled.has(def.name)
      ? sampleInto(def.name)
      : def.name === 'http_requests_in_flight'
        ? inFlightCollect
        : def.name === 'http_routes_overflowed'
          ? overflowCollect
          : undefined;
    handles.set(def.name, createHandle(ctx, def, collect));
  }
  return { handles, opt, tracked, clock, httpStore, addSampler, clearSamplers: () => samplers.clear() };
}

/** A gauge collect that sets the gauge to the sum of `sources`' counts (left as is while there are none). */
function summing(sources: Set<{ count: number }>) {
  return function collect(this: GaugeLike) {
    if (sources.size === 0) return;
    let n = 0;
    for (const s of sources) n += s.count;
    this.set({}, n);
  };
}

/**
 * The context every handle is created with: client, registry, prefix, exemplars, native-histogram
 * settings (a native registry only when some definition records native histograms), and the
 * label-set limits with their overflow warnings (through `resolved.log`) and drop counter.
 */
function handleContext(
  resolved: ResolvedMetricsOptions,
  options: MetricsOptions,
  definitions: readonly MetricDefinition[],
  state: Pick<Registered, 'httpStore' | 'tracked' | 'clock' | 'opt'>,
): HandleContext {
  const { log, prefix, client, registry } = resolved;
  const nativeFor = (def: MetricDefinition) =>
    resolveNative(def, options.nativeHistograms, options.nativeHistogramsFor?.[def.name]);
  const anyNative = definitions.some((d) => nativeFor(d) !== undefined);
  return {
    httpStore: state.httpStore,
    nativeFor,
    nativeRegistry: anyNative ? nativeRegistryFor(registry) : undefined,
    client,
    registry,
    prefix,
    exemplars: options.exemplars,
    tracked: state.tracked,
    labelSets: {
      defaultCap: resolved.maxLabelValues,
      defaultMaxSeries: resolved.maxSeriesPerMetric,
      clock: state.clock,
      onOverflow: (metric, label) =>
        label === 'series'
          ? log(
              { metric: prefix + metric, maxSeries: resolved.maxSeriesPerMetric },
              `@deia/metrics: ${prefix}${metric} reached its budget of label sets (maxSeriesPerMetric); further label sets are recorded in its "__overflow__" series and counted in ${prefix}metric_series_dropped_total. Remove the series of deleted objects (metrics.removeSeries), set seriesTtlSeconds, or raise the budget.`,
            )
          : log(
              { metric: prefix + metric, label },
              `@deia/metrics: ${prefix}${metric} label "${label}" reached its cap of distinct values; further values are recorded as "__overflow__".`,
            ),
      onDrop: (metric: string, reason: DropReason, count: number) =>
        state.opt<CounterHandle>('metric_series_dropped_total').inc({ metric, reason }, count),
    },
  };
}

/**
 * Idle expiry: when a TTL is set and some metric tracks label sets, starts one unref'd timer that
 * advances the clock the label sets stamp on every recording; each tick removes the sets not
 * stamped for the TTL (a failing metric is reported through `warn`, the others still expire).
 * Returns the timer (for `shutdown`), or `undefined` when none was started.
 */
export function startSweeper(
  ttl: number | undefined,
  registered: Pick<Registered, 'tracked' | 'clock'>,
  prefix: string,
  warn: (message: string) => void,
): NodeJS.Timeout | undefined {
  const { tracked, clock } = registered;
  if (ttl === undefined || tracked.size === 0) return undefined;
  const every = Math.max(1, Math.min(60, ttl / 4));
  const idleTicks = Math.ceil(ttl / every);
  const sweeper = setInterval(() => {
    clock.tick++;
    for (const [name, m] of tracked) {
      try {
        m.expire(clock.tick - idleTicks);
      } catch (err) {
        warn(`@deia/metrics: expiring idle series of ${prefix}${name} failed: ${(err as Error).message}`);
      }
    }
  }, every * 1000);
  sweeper.unref();
  return sweeper;
}

/**
 * With the `process` group: registers prom-client's default metrics (unless `defaultMetrics` is
 * off or they are already in the registry: registering them twice throws), samples
 * `process_uptime_seconds` at scrape time, and sets `app_build_info` to 1 with the version
 * (`buildInfo`, else `npm_package_version`, else `unknown`), commit and Node version.
 */
export function registerProcessMetrics(
  resolved: ResolvedMetricsOptions,
  options: MetricsOptions,
  registered: Pick<Registered, 'opt' | 'addSampler'>,
): void {
  const { groups, registry, prefix, client } = resolved;
  const { opt, addSampler } = registered;
  if (!groups.has('process')) return;
  if (resolved.defaultMetrics) {
    // Registering prom-client's default metrics twice throws; skip when already there.
    if (!registry.getSingleMetric(`${prefix}process_cpu_seconds_total`)) {
      client.collectDefaultMetrics({ register: registry, prefix });
    }
  }
  addSampler('process_uptime_seconds', () =>
    opt<GaugeHandle>('process_uptime_seconds').set({}, process.uptime()),
  );
  opt<GaugeHandle>('app_build_info').set(
    {
      version: options.buildInfo?.version ?? process.env.npm_package_version ?? 'unknown',
      commit: options.buildInfo?.commit ?? 'unknown',
      node_version: process.version,
    },
    1,
  );
}
