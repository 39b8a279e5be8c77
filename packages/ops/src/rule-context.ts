import { type CatalogView, catalogView } from './catalog-view.js';
import { dashboardUrl } from './rule-helpers.js';
import type { AlertRule, OpsThresholds, ResolvedOpsOptions, Severity } from './types.js';

export type Unit = 'percent' | 'duration' | 'bytes' | 'number';

export const HUMANIZE: Record<Unit, string> = {
  percent: '{{ $value | humanizePercentage }}',
  duration: '{{ $value | humanizeDuration }}',
  bytes: '{{ $value | humanize1024 }}B',
  number: '{{ $value | humanize }}',
};

export const round = (n: number) => Number(n.toPrecision(6));

/**
 * How far back `events` looks for an earlier sample of a counter before it counts the counter's
 * whole value as new events: a scrape gap (or a Prometheus restart) shorter than this is not a
 * new series. Scaled with the other windows by `windowScale`.
 */
export const FIRST_SEEN_MEMORY = '1h';

/** Formats a threshold the way the matching humanize function would print the value. */
export function formatThreshold(value: number, unit: Unit): string {
  if (unit === 'percent') return `${round(value * 100)}%`;
  if (unit === 'duration') return value < 1 ? `${round(value * 1000)}ms` : `${round(value)}s`;
  if (unit === 'bytes') {
    const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
    let v = value;
    let i = 0;
    while (v >= 1024 && i < units.length - 1) {
      v /= 1024;
      i++;
    }
    return `${round(Number(v.toFixed(2)))}${units[i]}`;
  }
  return String(round(value));
}

/** Keys of `thresholds` that come as a warning/critical pair. */
export type PairKey =
  | 'errorRatio'
  | 'latencyP95'
  | 'dbPool'
  | 'memory'
  | 'crashLoop'
  | 'queueBacklog'
  | 'dependencyLatency'
  | 'dependencyErrorRatio'
  | 'modelErrorRatio'
  | 'diskFree';

/** What every rule family builds with: the options, the catalog view and the shared shapes. */
export interface RuleContext {
  o: ResolvedOpsOptions;
  t: OpsThresholds;
  c: CatalogView;
  v: typeof HUMANIZE;
  /** `{<selector>[,extra]}` for series outside the catalog (`up`). */
  sel(extra?: string): string;
  /**
   * A recording rule's series as its readers select it: `name{...}` with the matchers of the
   * selector on the labels recorded series keep (`job` and the `aggregateBy` labels). Another
   * deployment's rules (a second namespace in one Prometheus) record the same name: without these
   * matchers an alert would read both.
   */
  rec(name: string): string;
  /** `part / total` by `by`, 0 (not missing) while `part` has no series yet. */
  ratio(by: string, part: string, total: string, w: string): string;
  /** The min-traffic clause of ratio alerts: quiet below `thresholds.minRequestRate` per second. */
  enough(by: string, total: string, w?: string): string;
  /**
   * `sum by (<by>)` of the events of counter `series` (a selector) in the last `w`: `increase()`,
   * except for a series born within `w` (no sample in the hour before the window), which counts
   * its whole value. A series that first appears already above zero (created and incremented
   * between two scrapes: a bot's first failed start, a new auth failure reason) is an increase;
   * one that returns after a scrape gap of under an hour, or a counter reset by a restart, is not.
   */
  events(series: string, by: string, w: string): string;
  /** `histogram_quantile(q, sum by (<by>, le) (rate(<name>_bucket[w])))`. */
  quantile(q: number, name: string, by: string, w?: string, matchers?: string): string;
  alert(
    name: string,
    severity: Severity,
    forDuration: string,
    expr: string,
    summary: string,
    description: string,
  ): AlertRule;
  /** A warning and a critical rule under one alert name (Alertmanager inhibits the warning). */
  pair(
    name: string,
    key: PairKey,
    unit: Unit,
    expr: (threshold: number) => string,
    summary: string,
    description: (threshold: string) => string,
  ): AlertRule[];
}

export function ruleContext(o: ResolvedOpsOptions): RuleContext {
  const t = o.thresholds;
  const c = catalogView(o);
  const sel = (extra?: string) => `{${o.selector}${extra ? `,${extra}` : ''}}`;
  const kept = new Set([...o.aggregateBy, 'job']);
  const recMatchers = [...o.selector.matchAll(/([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")/g)]
    .filter((m) => kept.has(m[1] as string))
    .map((m) => `${m[1]}${m[2]}${m[3]}`)
    .join(',');
  // Extra alerts link the "Extra metrics" dashboard, where each extra metric has its panel.
  const extra = new Set(o.extraMetrics.flatMap((d) => (d.alerts ?? []).map((a) => a.name)));
  // The notifications show the summary, not the labels: with aggregateBy it names the cluster (or
  // namespace) the alert is about; nothing where the label is absent (a cluster's own Prometheus).
  const where = o.aggregateBy.map((l) => `{{ with $labels.${l} }} (${l} {{ . }}){{ end }}`).join('');
  const clusterLink = o.grafana.clusterVariable && o.aggregateBy.includes('cluster');
  const alert: RuleContext['alert'] = (name, severity, f, expr, summary, description) => ({
    alert: name,
    expr,
    ...(f === '0s' ? {} : { for: f }),
    labels: { severity },
    annotations: {
      summary: `${summary}${where}`,
      description,
      runbook_url: `${o.runbookBaseUrl}/${name}.md`,
      ...(o.grafana.url
        ? {
            dashboard_url: dashboardUrl(
              o.grafana.url,
              o.grafana.uidPrefix,
              name,
              extra.has(name) ? 'extra-metrics' : undefined,
              clusterLink,
            ),
          }
        : {}),
    },
  });
  return {
    o,
    t,
    c,
    v: HUMANIZE,
    sel,
    rec: (name) => (recMatchers ? `${name}{${recMatchers}}` : name),
    ratio: (by, part, total, w) =>
      `(sum by (${by}) (rate(${part}[${w}])) or 0 * sum by (${by}) (rate(${total}[${w}])))\n/\nsum by (${by}) (rate(${total}[${w}]))`,
    enough: (by, total, w = '5m') =>
      `\nand on (${by})\nsum by (${by}) (rate(${total}[${w}])) > ${t.minRequestRate}`,
    events: (series, by, w) =>
      `sum by (${by}) (\n  (${series} unless max_over_time(${series}[${FIRST_SEEN_MEMORY}] offset ${w}))\n  or\n  increase(${series}[${w}])\n)`,
    quantile: (q, name, by, w = '5m', matchers) =>
      `histogram_quantile(${q}, sum by (${by}, le) (rate(${c.m(`${name}_bucket`, matchers)}[${w}])))`,
    alert,
    pair: (name, key, unit, expr, summary, description) =>
      (['warning', 'critical'] as const).map((severity) => {
        const k = `${key}${severity === 'warning' ? 'Warning' : 'Critical'}` as const;
        const th = t[k];
        return alert(name, severity, o.for[k], expr(th), summary, description(formatThreshold(th, unit)));
      }),
  };
}
