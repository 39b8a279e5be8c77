import * as common from '@grafana/grafana-foundation-sdk/common';
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
  VariableSort,
} from '@grafana/grafana-foundation-sdk/dashboard';
import { PanelBuilder as GaugeBuilder } from '@grafana/grafana-foundation-sdk/gauge';
import { DataqueryBuilder } from '@grafana/grafana-foundation-sdk/prometheus';
import { PanelBuilder as StatBuilder } from '@grafana/grafana-foundation-sdk/stat';
import { PanelBuilder as TimeseriesBuilder } from '@grafana/grafana-foundation-sdk/timeseries';
import { DeiaOpsError } from '../errors.js';
import { leMatcher } from '../rule-helpers.js';
import type { ResolvedOpsOptions } from '../types.js';

/** A panel described as data; thresholds come from the same options as the alerts. */
export interface PanelSpec {
  /**
   * Grafana panel id, unique in its dashboard and fixed in the source (never derived from the
   * position), so a link to a panel (`viewPanel=<id>`) survives added panels and option changes.
   */
  id: number;
  /** The panel's title. */
  title: string;
  /** Grafana panel type; `stat` and `gauge` show the last non-null value. */
  kind: 'timeseries' | 'stat' | 'gauge';
  /** Grafana unit id of the values (`s`, `percentunit`, `bytes`, `reqps`, `short`, ...). */
  unit: string;
  /** PromQL queries (refIds A, B, ...), each with an optional legend format (`{{route}}`). */
  queries: Array<{ expr: string; legend?: string }>;
  /** Alert thresholds drawn on the panel. `lowerIsWorse` for ratios like cache hits or free disk. */
  thresholds?: { warning?: number; critical?: number; lowerIsWorse?: boolean };
  /** Width in grid columns (of 24). @default 12 for `timeseries`, 6 for `stat` and `gauge` */
  width?: number;
  /** Panel description (Grafana's info tooltip). @default none */
  description?: string;
  /** Lowest value of the axis or scale. @default Grafana's, from the data */
  min?: number;
  /** Highest value of the axis or scale. @default Grafana's, from the data */
  max?: number;
}

/** A dashboard described as data: rows of panels. */
export interface DashboardSpec {
  /** File name under `grafana/dashboards/` (`cache.json`); the kubernetes target names its ConfigMap by it. */
  file: string;
  /** Grafana uid, `<grafana.uidPrefix>-<name>`; the alerts' `dashboard_url` links to it. */
  uid: string;
  /** The dashboard's title. */
  title: string;
  /** Rows share the panels' id space. */
  rows: Array<{ id: number; title: string; panels: PanelSpec[] }>;
}

// biome-ignore lint/suspicious/noTemplateCurlyInString: a Grafana variable reference, not a JS template.
const DS = { type: 'prometheus', uid: '${datasource}' };

function thresholdSteps(t: NonNullable<PanelSpec['thresholds']>) {
  if (t.lowerIsWorse) {
    const steps: Array<{ value: number | null; color: string }> = [{ value: null, color: 'red' }];
    if (t.critical !== undefined && t.warning !== undefined)
      steps.push({ value: t.critical, color: 'yellow' });
    steps.push({ value: t.warning ?? t.critical ?? 0, color: 'green' });
    return steps;
  }
  const steps: Array<{ value: number | null; color: string }> = [{ value: null, color: 'green' }];
  if (t.warning !== undefined) steps.push({ value: t.warning, color: 'yellow' });
  if (t.critical !== undefined) steps.push({ value: t.critical, color: 'red' });
  return steps;
}

function panel(spec: PanelSpec) {
  const targets = spec.queries.map((q, i) => {
    const b = new DataqueryBuilder()
      .expr(q.expr)
      .refId(String.fromCharCode(65 + i))
      .datasource(DS);
    if (q.legend) b.legendFormat(q.legend);
    return b;
  });
  const thresholds = new ThresholdsConfigBuilder()
    .mode(ThresholdsMode.Absolute)
    .steps(spec.thresholds ? thresholdSteps(spec.thresholds) : [{ value: null, color: 'green' }]);
  const b =
    spec.kind === 'timeseries'
      ? new TimeseriesBuilder().thresholdsStyle(
          new common.GraphThresholdsStyleConfigBuilder().mode(
            spec.thresholds ? common.GraphThresholdsStyleMode.Dashed : common.GraphThresholdsStyleMode.Off,
          ),
        )
      : spec.kind === 'stat'
        ? new StatBuilder().reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']))
        : new GaugeBuilder().reduceOptions(new common.ReduceDataOptionsBuilder().calcs(['lastNotNull']));
  b.title(spec.title)
    .datasource(DS)
    .unit(spec.unit)
    .thresholds(thresholds)
    .targets(targets)
    .height(spec.kind === 'timeseries' ? 8 : 5)
    .span(spec.width ?? (spec.kind === 'timeseries' ? 12 : 6));
  if (spec.description) b.description(spec.description);
  if (spec.min !== undefined) b.min(spec.min);
  if (spec.max !== undefined) b.max(spec.max);
  return b;
}

/**
 * The label matchers of the template variables: `$job` (and `$cluster` when
 * `grafana.clusterVariable`) apply to every series; `$instance` only to series that still carry an
 * `instance` label (raw series and instance-level recording rules, not the job-level aggregates).
 */
export function variableMatchers(o: ResolvedOpsOptions) {
  const job = [o.selector, 'job=~"$job"', ...(o.grafana.clusterVariable ? ['cluster=~"$cluster"'] : [])];
  return { job, instance: [...job, 'instance=~"$instance"'] };
}

/**
 * The expression helpers every dashboard file uses: metric names get the prefix and the template
 * variables' matchers, so no panel can forget `$job`/`$instance`/`$cluster`.
 */
export function panelContext(o: ResolvedOpsOptions) {
  const p = o.prefix;
  const t = o.thresholds;
  const vm = variableMatchers(o);
  const sel = (extra?: string) => `{${[...vm.instance, ...(extra ? [extra] : [])].join(',')}}`;
  const m = (name: string, extra?: string) => `${p}${name}${sel(extra)}`;
  const native = (name: string) => o.nativeHistograms.includes(name);
  // `by` is empty or ends with ", " (the `le` of the classic form follows it).
  const q = (quant: number, name: string, by: string) =>
    native(name)
      ? `histogram_quantile(${quant}, sum${by ? ` by (${by.replace(/,\s*$/, '')})` : ''} (rate(${m(name)}[$__rate_interval])))`
      : `histogram_quantile(${quant}, sum by (${by}le) (rate(${m(`${name}_bucket`)}[$__rate_interval])))`;
  /** The share of a histogram's observations at most `threshold` (classic: a bucket bound). */
  const share = (name: string, threshold: number) =>
    native(name)
      ? `histogram_fraction(0, ${threshold}, sum(rate(${m(name)}[$__rate_interval])))`
      : `sum(rate(${m(`${name}_bucket`, leMatcher(threshold))}[$__rate_interval])) / sum(rate(${m(`${name}_count`)}[$__rate_interval]))`;
  const rate = (name: string, by: string, extra?: string) =>
    `sum by (${by}) (rate(${m(name, extra)}[$__rate_interval]))`;
  // Job-level recording rules have no instance label: `$instance` cannot narrow them.
  const rec = (name: string) => `${name}{${vm.job.join(',')}}`;
  const recInstance = (name: string) => `${name}{${vm.instance.join(',')}}`;
  const percentiles = (name: string, by = '', legendBy = '') =>
    [0.5, 0.95, 0.99].map((quant) => ({
      expr: q(quant, name, by),
      legend: `p${Math.round(quant * 100)}${legendBy ? ` {{${legendBy}}}` : ''}`,
    }));
  /** `part / total` by `by`, 0 (not "No data") while `part` has no series yet (as the rules do). */
  const ratio = (by: string, part: string, total: string) =>
    `(sum by (${by}) (rate(${part}[$__rate_interval])) or 0 * sum by (${by}) (rate(${total}[$__rate_interval]))) / sum by (${by}) (rate(${total}[$__rate_interval]))`;
  return {
    o,
    p,
    native,
    share,
    ratio,
    t,
    vm,
    sel,
    m,
    q,
    rate,
    rec,
    recInstance,
    percentiles,
    errRatio: (w: string) => rec(`job:${p}http_request_errors:ratio_rate${w}`),
    lat: (qq: string) => rec(`job:${p}http_request_duration_seconds:${qq}_5m`),
    poolUtil: recInstance(`instance_pool:${p}db_connection_pool_utilisation:ratio`),
    cacheRatio: rec(`job_cache:${p}cache_hit:ratio_rate5m`),
    uid: (s: string) => `${o.grafana.uidPrefix}-${s}`,
    thresholds: {
      latency: { warning: t.latencyP95Warning, critical: t.latencyP95Critical },
      errors: { warning: t.errorRatioWarning, critical: t.errorRatioCritical },
      memory: { warning: t.memoryWarning, critical: t.memoryCritical },
      pool: { warning: t.dbPoolWarning, critical: t.dbPoolCritical },
      cacheHit: { warning: t.cacheHitRatio, lowerIsWorse: true },
      deps: { warning: t.dependencyLatencyWarning, critical: t.dependencyLatencyCritical },
    },
  };
}

/** What each dashboard file receives. */
export type PanelContext = ReturnType<typeof panelContext>;

/** Builds the Grafana dashboard JSON of one spec with the foundation SDK's typed builders. */
export function buildDashboard(spec: DashboardSpec, o: ResolvedOpsOptions): object {
  const vm = variableMatchers(o);
  const cluster = o.grafana.clusterVariable ? ['cluster=~"$cluster"'] : [];
  const labelValues = (label: string, matchers: string[]) =>
    `label_values(up{${[o.selector, ...matchers].join(',')}}, ${label})`;
  const variable = (name: string, label: string, query: string) =>
    new QueryVariableBuilder(name)
      .label(label)
      .datasource(DS)
      .query(query)
      .definition(query)
      .refresh(VariableRefresh.OnTimeRangeChanged)
      .sort(VariableSort.AlphabeticalAsc)
      .multi(true)
      .includeAll(true)
      .allValue('.*')
      .current({ selected: true, text: 'All', value: '$__all' });
  const d = new DashboardBuilder(spec.title)
    .uid(spec.uid)
    .tags(['deia', o.job])
    .refresh('30s')
    .time({ from: 'now-6h', to: 'now' })
    .timezone('browser')
    .withVariable(new DatasourceVariableBuilder('datasource').label('Data source').type('prometheus'));
  if (o.grafana.clusterVariable) d.withVariable(variable('cluster', 'Cluster', labelValues('cluster', [])));
  d.withVariable(variable('job', 'Job', labelValues('job', cluster)))
    .withVariable(variable('instance', 'Instance', labelValues('instance', [...cluster, 'job=~"$job"'])))
    .annotation(
      new AnnotationQueryBuilder()
        .name('Deployments')
        .datasource(DS)
        .enable(true)
        .iconColor('blue')
        // A build (app_build_info version label) that was not there 5 minutes earlier is a deployment.
        .expr(
          `sum by (version) (${o.prefix}app_build_info{${vm.instance.join(',')}}) unless sum by (version) (${o.prefix}app_build_info{${vm.instance.join(',')}} offset 5m)`,
        )
        .titleFormat('Deployed {{version}}')
        .step('1m'),
    )
    .annotation(
      new AnnotationQueryBuilder()
        .name('Incidents')
        .datasource(DS)
        .enable(true)
        .iconColor('red')
        // Pages, from Prometheus' own ALERTS series: job and cluster only (job-wide alerts have no
        // instance, and the selector may name labels an alert does not keep).
        .expr(
          `ALERTS{${['alertstate="firing"', 'severity="critical"', 'job=~"$job"', ...cluster].join(',')}}`,
        )
        .titleFormat('{{alertname}}')
        .step('1m'),
    );
  // Stable panel ids: written in the specs, so adding a panel or switching an option never renumbers
  // the others (links with `viewPanel=<id>` keep pointing at the same panel).
  const seen = new Map<number, string>();
  const claim = (id: number, title: string) => {
    const other = seen.get(id);
    if (other !== undefined || !Number.isInteger(id) || id < 1)
      throw new DeiaOpsError(
        'DEIA_OPS_DASHBOARD',
        `${spec.file}: panel "${title}" has id ${id}, ${other === undefined ? 'not a positive integer' : `already used by "${other}"`}.`,
      );
    seen.set(id, title);
    return id;
  };
  for (const row of spec.rows) {
    d.withRow(new RowBuilder(row.title).id(claim(row.id, row.title)));
    for (const p of row.panels) d.withPanel(panel(p).id(claim(p.id, p.title)));
  }
  return d.build();
}
