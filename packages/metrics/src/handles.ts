import type { Counter, Gauge, Histogram } from 'prom-client';
import { DeiaMetricsError } from './errors.js';
import {
  HTTP_SERIES_METRICS,
  type HttpHistogramMetric,
  type HttpStore,
  isHttpSeriesMetric,
  registerHttpSeriesMetric,
} from './http-series.js';
import { createLabelSets, type LabelSetContext, type LabelSets } from './label-sets.js';
import { NativeFamilyState, type NativeRegistry, type ResolvedNative } from './native-store.js';
import type {
  CounterHandle,
  GaugeHandle,
  HistogramHandle,
  Labels,
  MetricDefinition,
  PromClientModule,
  RegistryLike,
} from './types.js';

export type AnyHandle = CounterHandle | GaugeHandle | HistogramHandle;

export interface HandleContext {
  client: PromClientModule;
  registry: RegistryLike;
  prefix: string;
  /** Label caps, series budget, idle clock and the drop counter (see `label-sets.ts`). */
  labelSets: LabelSetContext;
  /** Metric name (unprefixed) -> its tracked label sets and metric, for removal and expiry. */
  tracked: Map<string, TrackedMetric>;
  /** When set, histograms record exemplars with the labels it returns (e.g. the active trace id). */
  exemplars?: (() => Record<string, string> | undefined) | undefined;
  /** Where the HTTP core records; the HTTP metrics are registered as views of it. */
  httpStore?: HttpStore;
  /** The native-histogram settings of a histogram definition (undefined: classic only). */
  nativeFor?: (def: MetricDefinition) => ResolvedNative | undefined;
  /** Where the native families are found by the renderers (`native-contract.ts`). */
  nativeRegistry?: NativeRegistry;
}

const NEVER_EXPIRE = new Set(['app_build_info', 'metric_series_dropped_total']);

type Collect = (this: Gauge) => void | Promise<void>;

/** A metric whose label sets are tracked: what `removeSeries` and the idle sweep act on. */
export interface TrackedMetric {
  readonly sets: LabelSets;
  /** Removes the matching series (prom-client `remove()`); returns how many. */
  remove(match: Partial<Record<string, string | number>>): number;
  /** Removes the series idle since tick `before`; returns how many. */
  expire(before: number): number;
}

/**
 * Registers (or re-uses, when a compatible metric of that name is registered already) the
 * prom-client metric for a definition and wraps it in a guarded handle.
 */
export function createHandle(ctx: HandleContext, def: MetricDefinition, collect?: Collect): AnyHandle {
  const name = ctx.prefix + def.name;
  const native = ctx.nativeFor?.(def);
  const metric = registeredMetric(ctx, def, name, native, collect);
  // The HTTP families' route and status are bounded by the HTTP core (maxRoutes), not tracked here;
  // the build info and the drop counter are written once or by the SDK itself and never expire.
  const track = !HTTP_SERIES_METRICS.has(def.name) && !NEVER_EXPIRE.has(def.name);
  const sets = createLabelSets<string>(def, ctx.labelSets, track);
  const guard = sets.admit;
  const removable = metric as { remove(labels: Labels<string>): void };
  // The native part of a prom-client histogram lives beside it, keyed like its series.
  // The guard of tracked label sets returns one stored object per label set: keyed by identity.
  const stable = track && def.labelNames.some((l) => def.labelValues?.[l] === undefined);
  const family = nativeFamilyOf(ctx, name, def, native, metric, stable);
  const drop = (list: Array<Labels<string>>): number => {
    for (const labels of list) {
      removable.remove(labels);
      family?.remove(labels);
    }
    return list.length;
  };
  const remove = (match: Partial<Labels<string>>): number => drop(sets.remove(match));
  if (track && def.labelNames.some((l) => def.labelValues?.[l] === undefined)) {
    ctx.tracked.set(def.name, { sets, remove, expire: (before) => drop(sets.expire(before)) });
  }
  if (def.type === 'counter') {
    const m = metric as Counter<string>;
    return {
      definition: def,
      metric: m,
      inc: (labels?: Labels<string>, value = 1) => m.inc((guard(labels) ?? {}) as never, value),
      remove,
    } satisfies CounterHandle;
  }
  if (def.type === 'gauge') {
    const m = metric as Gauge<string>;
    return {
      definition: def,
      metric: m,
      set: (labels, value) => m.set(guard(labels) as never, value),
      inc: (labels, value = 1) => m.inc((guard(labels) ?? {}) as never, value),
      dec: (labels, value = 1) => m.dec((guard(labels) ?? {}) as never, value),
      remove,
    } satisfies GaugeHandle;
  }
  return histogramHandle(ctx, def, metric as Histogram<string>, guard, family, remove);
}

/**
 * The prom-client metric of a definition: the one registered under `name` when it is compatible
 * (same type, same labels; else throws `DEIA_METRIC_CONFLICT`), or a new one (the HTTP families as
 * views of the HTTP core's store).
 */
function registeredMetric(
  ctx: HandleContext,
  def: MetricDefinition,
  name: string,
  native: ResolvedNative | undefined,
  collect: Collect | undefined,
): unknown {
  const labelNames = [...def.labelNames];
  const existing = ctx.registry.getSingleMetric(name) as unknown as
    | { labelNames?: string[]; constructor: unknown }
    | undefined;
  const ctor = { counter: ctx.client.Counter, gauge: ctx.client.Gauge, histogram: ctx.client.Histogram }[
    def.type
  ];
  if (existing) {
    const sameLabels = (existing.labelNames ?? []).join(',') === labelNames.join(',');
    const sameType = isHttpSeriesMetric(existing)
      ? (existing as unknown as { type: string }).type === def.type
      : existing instanceof (ctor as unknown as new () => object);
    if (!sameType || !sameLabels) {
      throw new DeiaMetricsError(
        'DEIA_METRIC_CONFLICT',
        `metric "${name}" is already registered as a different type or with other labels; use another prefix or registry.`,
      );
    }
    return existing;
  }
  const series =
    ctx.httpStore !== undefined &&
    HTTP_SERIES_METRICS.has(def.name) &&
    labelNames.join(',') === 'method,route,status';
  const config: Record<string, unknown> = {
    name,
    help: def.help,
    labelNames,
    registers: series ? [] : [ctx.registry],
  };
  if (def.type === 'histogram') {
    // Native only: the classic form keeps just +Inf, _sum and _count (as client_golang writes it).
    config.buckets = native?.classicBuckets === false ? [] : [...(def.buckets ?? [])];
    if (ctx.exemplars) config.enableExemplars = true;
  }
  if (collect) config.collect = collect;
  if (def.aggregator) config.aggregator = def.aggregator;
  const metric = new (ctor as unknown as new (c: object) => unknown)(config);
  if (!series) return metric;
  // Public-API calls land in `metric` (unregistered); the registry reads the merged view.
  const view = registerHttpSeriesMetric(
    ctx.registry,
    ctx.httpStore as HttpStore,
    metric as Counter<string>,
    { name, help: def.help, labelNames, buckets: config.buckets as number[] | undefined },
    def.name,
    ctx.exemplars,
    native,
  );
  if (native !== undefined && ctx.nativeRegistry !== undefined && def.type === 'histogram') {
    ctx.nativeRegistry.families.set(name, view as HttpHistogramMetric);
  }
  return view;
}

/** The handle of a histogram: guarded observations, exemplars when set, its native part first. */
function histogramHandle(
  ctx: HandleContext,
  def: MetricDefinition,
  m: Histogram<string>,
  guard: LabelSets['admit'],
  family: NativeFamilyState | undefined,
  remove: (match: Partial<Labels<string>>) => number,
): HistogramHandle {
  const exemplars = ctx.exemplars;
  let observe: HistogramHandle['observe'] = exemplars
    ? (labels, value) =>
        m.observe({ labels: guard(labels) as never, value, exemplarLabels: exemplars() ?? {} } as never)
    : (labels, value) => m.observe(guard(labels) as never, value);
  if (family !== undefined) {
    // Native first: a bucket-limit reset of the label set resets its classic series too (removed,
    // then this observation recreates it), so both describe the same observations.
    observe = exemplars
      ? (labels, value) => {
          const l = guard(labels) ?? ({} as Labels<string>);
          const ex = exemplars();
          if (family.observe(l, value, ex)) m.remove(l as never);
          m.observe({ labels: l as never, value, exemplarLabels: ex ?? {} } as never);
        }
      : (labels, value) => {
          const l = guard(labels) ?? ({} as Labels<string>);
          if (family.observe(l, value)) m.remove(l as never);
          m.observe(l as never, value);
        };
  }
  return {
    definition: def,
    metric: m,
    observe,
    remove,
    startTimer: (labels) => {
      const start = process.hrtime.bigint();
      return (endLabels) => {
        const seconds = Number(process.hrtime.bigint() - start) / 1e9;
        observe({ ...labels, ...endLabels } as Labels<string>, seconds);
        return seconds;
      };
    },
  } satisfies HistogramHandle;
}

/**
 * The SDK-owned native state beside a prom-client histogram (undefined for classic-only ones and
 * for the HTTP histograms, whose series objects hold their native part themselves).
 */
function nativeFamilyOf(
  ctx: HandleContext,
  name: string,
  def: MetricDefinition,
  native: ResolvedNative | undefined,
  metric: unknown,
  stableLabels: boolean,
): NativeFamilyState | undefined {
  if (native === undefined || ctx.nativeRegistry === undefined || isHttpSeriesMetric(metric))
    return undefined;
  const known = ctx.nativeRegistry.families.get(name);
  if (known instanceof NativeFamilyState) return known; // a compatible metric re-used
  const family = new NativeFamilyState(name, def.labelNames, native, stableLabels);
  ctx.nativeRegistry.families.set(name, family);
  return family;
}
