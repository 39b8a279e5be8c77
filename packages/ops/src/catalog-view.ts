import { CATALOG, DEFAULT_METRICS_OPTIONS, type MetricDefinition, type MetricGroup } from '@deia/metrics';
import { validateBuckets, validateDefinition } from '@deia/metrics/adapter';
import { DeiaOpsError } from './errors.js';
import type { OpsOptions, ResolvedOpsOptions } from './types.js';

const fail = (message: string): never => {
  throw new DeiaOpsError('DEIA_OPS_OPTIONS', message);
};

/** prom-client's default metrics the rules read: they exist with the `process` group and `defaultMetrics`. */
export const DEFAULT_PROCESS_METRICS = [
  'process_resident_memory_bytes',
  'process_cpu_seconds_total',
  'process_open_fds',
  'process_max_fds',
  'nodejs_eventloop_lag_p99_seconds',
] as const;

/**
 * Resolves the options that say which metrics exist, mirroring `createMetrics`: `groups`, `buckets`,
 * `extraMetrics` and `defaultMetrics`. Validated the same way (same definition checks, a bucket
 * override must name a registered histogram).
 */
export function resolveCatalogOptions(
  o: OpsOptions,
  prefix: string,
): Pick<ResolvedOpsOptions, 'groups' | 'buckets' | 'extraMetrics' | 'defaultMetrics'> {
  const all = DEFAULT_METRICS_OPTIONS.groups;
  const groups = o.groups ?? all;
  const must = `groups must be an array of catalog groups, as given to createMetrics`;
  if (!Array.isArray(groups)) fail(`${must} (${all.join(', ')}).`);
  for (const g of groups as unknown[])
    if (!all.includes(g as MetricGroup))
      fail(`${must}: unknown group "${String(g)}"; use some of: ${all.join(', ')}.`);
  const extraMetrics = o.extraMetrics ?? [];
  if (!Array.isArray(extraMetrics)) fail('extraMetrics must be an array of metric definitions.');
  const names = new Set<string>();
  for (const def of CATALOG.filter((d) => groups.includes(d.group as MetricGroup))) names.add(def.name);
  for (const [i, def] of extraMetrics.entries()) {
    try {
      validateDefinition(def, prefix);
    } catch (err) {
      fail(`extraMetrics[${i}]: ${(err as Error).message}`);
    }
    if (names.has(def.name) || CATALOG.some((d) => d.name === def.name))
      fail(
        `extraMetrics[${i}]: "${def.name}" is already defined (in the catalog or by an earlier extra metric).`,
      );
    names.add(def.name);
  }
  const buckets: Record<string, number[]> = {};
  if (o.buckets !== undefined && (o.buckets === null || typeof o.buckets !== 'object'))
    fail('buckets must be an object: histogram name -> bucket bounds, as given to createMetrics.');
  for (const [name, b] of Object.entries(o.buckets ?? {})) {
    const def = [...CATALOG, ...extraMetrics].find((d) => d.name === name);
    if (def?.type !== 'histogram' || !names.has(name))
      fail(`buckets.${name}: no histogram of that name is registered.`);
    try {
      validateBuckets(name, b);
    } catch (err) {
      fail(`buckets.${name}: ${(err as Error).message}`);
    }
    buckets[name] = [...b];
  }
  const defaultMetrics = o.defaultMetrics ?? DEFAULT_METRICS_OPTIONS.defaultMetrics;
  if (typeof defaultMetrics !== 'boolean') fail('defaultMetrics must be a boolean.');
  return { groups: [...groups], buckets, extraMetrics: [...extraMetrics], defaultMetrics };
}

/** What the rules may read: the registered definitions, with the prefix and selector applied. */
export interface CatalogView {
  /** True when the metric is registered (its group is on, or it is an extra metric). */
  has(name: string): boolean;
  /** The registered definition (bucket overrides applied); throws for an unregistered name. */
  def(name: string): MetricDefinition;
  /**
   * `<prefix><series>{<selector>[,<matchers>]}`. `series` is a registered metric, a histogram's
   * `_bucket`/`_count`/`_sum`, or one of prom-client's default process metrics; every label a
   * matcher names must be a label of the metric (`le` of a `_bucket`), so a renamed label fails
   * generation instead of selecting nothing.
   */
  m(series: string, matchers?: string): string;
  /**
   * `<aggregateBy>, job, <labels>`: the aggregation labels, each of `labels` checked against the
   * metric's labels (or `instance`). Every aggregation and `on (...)` of the rules is built from it.
   */
  by(name: string, ...labels: string[]): string;
  /** The bucket bounds of a registered histogram. */
  buckets(name: string): readonly number[];
  /**
   * True when `name` is a histogram read as a native histogram (`nativeHistograms`): its series is
   * `name` itself; it has no `_bucket` series, and `_count`/`_sum` are read with
   * `histogram_count`/`histogram_sum` (see `nativeSeries`).
   */
  native(name: string): boolean;
}

const HIST_SUFFIX = /_(bucket|count|sum)$/;

export function catalogView(o: ResolvedOpsOptions): CatalogView {
  const defs = new Map<string, MetricDefinition>();
  for (const d of [...CATALOG.filter((x) => o.groups.includes(x.group as MetricGroup)), ...o.extraMetrics]) {
    const b = o.buckets[d.name];
    defs.set(d.name, b ? { ...d, buckets: b } : d);
  }
  const processOn = o.groups.includes('process') && o.defaultMetrics;
  const def = (name: string) =>
    defs.get(name) ??
    fail(
      `the rules read ${name}, which is not registered with these options (groups: ${o.groups.join(', ')}).`,
    );
  const checkLabels = (d: MetricDefinition, labels: string[], le: boolean) => {
    for (const l of labels) {
      if (!(d.labelNames.includes(l) || l === 'instance' || (le && l === 'le')))
        throw new DeiaOpsError(
          'DEIA_OPS_CATALOG',
          `a rule uses label "${l}" of ${d.name}, whose labels are: ${d.labelNames.join(', ') || 'none'}.`,
        );
    }
  };
  return {
    has: (name) =>
      defs.has(name) || (processOn && (DEFAULT_PROCESS_METRICS as readonly string[]).includes(name)),
    def,
    m(series, matchers) {
      const base = defs.has(series) ? series : series.replace(HIST_SUFFIX, '');
      const isDefault = (DEFAULT_PROCESS_METRICS as readonly string[]).includes(series);
      if (!isDefault) {
        const d = def(base);
        if (base !== series && d.type !== 'histogram') def(series);
        const labels = [...(matchers ?? '').matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map(
          (x) => x[1] ?? '',
        );
        if (series.endsWith('_bucket') && o.nativeHistograms.includes(base))
          throw new DeiaOpsError(
            'DEIA_OPS_CATALOG',
            `a rule reads ${series}, but ${base} is a native histogram (nativeHistograms): it has no _bucket series; use histogram_quantile or histogram_fraction over ${base}.`,
          );
        checkLabels(d, labels, series.endsWith('_bucket'));
      } else if (!processOn)
        fail(`the rules read ${series}, but the process group or defaultMetrics is off.`);
      return `${o.prefix}${series}{${o.selector}${matchers ? `,${matchers}` : ''}}`;
    },
    by(name, ...labels) {
      checkLabels(def(name), labels, false);
      return [...o.aggregateBy, 'job', ...labels].join(', ');
    },
    buckets: (name) => def(name).buckets ?? fail(`${name} is not a histogram.`),
    native: (name) => o.nativeHistograms.includes(name),
  };
}
