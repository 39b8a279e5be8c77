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
import type { ResolvedOpsOptions } from './types.js';

/** A panel described as data; thresholds come from the same options as the alerts. */
export interface PanelSpec {
  title: string;
  kind: 'timeseries' | 'stat' | 'gauge';
  unit: string;
  queries: Array<{ expr: string; legend?: string }>;
  /** Alert thresholds drawn on the panel. `lowerIsWorse` for ratios like cache hits or free disk. */
  thresholds?: { warning?: number; critical?: number; lowerIsWorse?: boolean };
  width?: number;
  description?: string;
  min?: number;
  max?: number;
}

/** A dashboard described as data: rows of panels. */
export interface DashboardSpec {
  file: string;
  uid: string;
  title: string;
  rows: Array<{ title: string; panels: PanelSpec[] }>;
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
function variableMatchers(o: ResolvedOpsOptions) {
  const job = [o.selector, 'job=~"$job"', ...(o.grafana.clusterVariable ? ['cluster=~"$cluster"'] : [])];
  return { job, instance: [...job, 'instance=~"$instance"'] };
}

/** The dashboards as data (what the static cross-check reads). */
export function dashboardSpecs(o: ResolvedOpsOptions): DashboardSpec[] {
  const p = o.prefix;
  const t = o.thresholds;
  const vm = variableMatchers(o);
  const sel = (extra?: string) => `{${[...vm.instance, ...(extra ? [extra] : [])].join(',')}}`;
  const m = (name: string, extra?: string) => `${p}${name}${sel(extra)}`;
  const q = (quant: number, name: string, by: string) =>
    `histogram_quantile(${quant}, sum by (${by}le) (rate(${m(`${name}_bucket`)}[$__rate_interval])))`;
  const rate = (name: string, by: string, extra?: string) =>
    `sum by (${by}) (rate(${m(name, extra)}[$__rate_interval]))`;
  // Job-level recording rules have no instance label: `$instance` cannot narrow them.
  const rec = (name: string) => `${name}{${vm.job.join(',')}}`;
  const recInstance = (name: string) => `${name}{${vm.instance.join(',')}}`;
  const errRatio = (w: string) => rec(`job:${p}http_request_errors:ratio_rate${w}`);
  const lat = (qq: string) => rec(`job:${p}http_request_duration_seconds:${qq}_5m`);
  const percentiles = (name: string, by = '', legendBy = '') =>
    [0.5, 0.95, 0.99].map((quant) => ({
      expr: q(quant, name, by),
      legend: `p${Math.round(quant * 100)}${legendBy ? ` {{${legendBy}}}` : ''}`,
    }));

  const latency = { warning: t.latencyP95Warning, critical: t.latencyP95Critical };
  const errors = { warning: t.errorRatioWarning, critical: t.errorRatioCritical };
  const memory = { warning: t.memoryWarning, critical: t.memoryCritical };
  const pool = { warning: t.dbPoolWarning, critical: t.dbPoolCritical };
  const cacheHit = { warning: t.cacheHitRatio, lowerIsWorse: true };
  const deps = { warning: t.dependencyLatencyWarning, critical: t.dependencyLatencyCritical };
  const poolUtil = recInstance(`instance_pool:${p}db_connection_pool_utilisation:ratio`);
  const cacheRatio = rec(`job_cache:${p}cache_hit:ratio_rate5m`);
  const uid = (s: string) => `${o.grafana.uidPrefix}-${s}`;

  const dashboards: DashboardSpec[] = [
    {
      file: 'system-overview.json',
      uid: uid('system-overview'),
      title: 'DEIA / System Overview',
      rows: [
        {
          title: 'Service level',
          panels: [
            { title: 'Targets up', kind: 'stat', unit: 'short', queries: [{ expr: `sum(up${sel()})` }] },
            {
              title: 'Availability (1h)',
              kind: 'stat',
              unit: 'percentunit',
              queries: [{ expr: `1 - ${errRatio('1h')}` }],
              thresholds: { warning: o.sloTarget, lowerIsWorse: true },
              description: `SLO target ${o.sloTarget * 100}% of requests without a 5xx.`,
            },
            {
              title: 'Response time p95',
              kind: 'stat',
              unit: 's',
              queries: [{ expr: lat('p95') }],
              thresholds: latency,
            },
            {
              title: 'Error ratio (5xx)',
              kind: 'stat',
              unit: 'percentunit',
              queries: [{ expr: errRatio('5m') }],
              thresholds: errors,
            },
          ],
        },
        {
          title: 'Traffic',
          panels: [
            {
              title: 'Request rate',
              kind: 'timeseries',
              unit: 'reqps',
              queries: [{ expr: rec(`job:${p}http_requests:rate5m`), legend: '{{job}}' }],
            },
            {
              title: 'Request duration',
              kind: 'timeseries',
              unit: 's',
              queries: [
                { expr: lat('p50'), legend: 'p50' },
                { expr: lat('p95'), legend: 'p95' },
                { expr: lat('p99'), legend: 'p99' },
              ],
              thresholds: latency,
            },
            {
              title: 'Error ratio',
              kind: 'timeseries',
              unit: 'percentunit',
              queries: [{ expr: errRatio('5m'), legend: '5xx' }],
              thresholds: errors,
            },
            {
              title: 'Requests in flight',
              kind: 'timeseries',
              unit: 'short',
              queries: [{ expr: `sum(${m('http_requests_in_flight')})`, legend: 'in flight' }],
            },
          ],
        },
        {
          title: 'Resources',
          panels: [
            {
              title: 'Bot instances running / max',
              kind: 'stat',
              unit: 'short',
              queries: [
                { expr: `sum(${m('bot_instances', 'status="running"')})`, legend: 'running' },
                { expr: `max(${m('bot_instances_max')})`, legend: 'max' },
              ],
            },
            {
              title: 'Memory (RSS)',
              kind: 'timeseries',
              unit: 'bytes',
              queries: [{ expr: m('process_resident_memory_bytes'), legend: '{{instance}}' }],
              thresholds: memory,
            },
            {
              title: 'CPU (cores)',
              kind: 'timeseries',
              unit: 'percentunit',
              queries: [
                { expr: `rate(${m('process_cpu_seconds_total')}[$__rate_interval])`, legend: '{{instance}}' },
              ],
              thresholds: { warning: t.cpu },
            },
            {
              title: 'DB pool utilisation',
              kind: 'gauge',
              unit: 'percentunit',
              queries: [{ expr: `max(${poolUtil})` }],
              thresholds: pool,
              min: 0,
              max: 1,
            },
            {
              title: 'Cache hit ratio',
              kind: 'stat',
              unit: 'percentunit',
              queries: [{ expr: `avg(${cacheRatio})` }],
              thresholds: cacheHit,
            },
          ],
        },
      ],
    },
    {
      file: 'request-metrics.json',
      uid: uid('request-metrics'),
      title: 'DEIA / Request Metrics',
      rows: [
        {
          title: 'Requests',
          panels: [
            {
              title: 'Request rate by route',
              kind: 'timeseries',
              unit: 'reqps',
              queries: [{ expr: rec(`job_route:${p}http_requests:rate5m`), legend: '{{route}}' }],
            },
            {
              title: 'Responses by status',
              kind: 'timeseries',
              unit: 'reqps',
              queries: [{ expr: rate('http_requests_total', 'status'), legend: '{{status}}' }],
            },
            {
              title: 'Response time percentiles',
              kind: 'timeseries',
              unit: 's',
              queries: percentiles('http_request_duration_seconds'),
              thresholds: latency,
            },
            {
              title: 'Slowest routes (p95)',
              kind: 'timeseries',
              unit: 's',
              queries: [
                {
                  expr: `topk(10, ${rec(`job_route:${p}http_request_duration_seconds:p95_5m`)})`,
                  legend: '{{route}}',
                },
              ],
              thresholds: latency,
            },
            {
              title: 'Error ratio by route',
              kind: 'timeseries',
              unit: 'percentunit',
              queries: [
                {
                  expr: `topk(10, ${rec(`job_route:${p}http_request_errors:ratio_rate5m`)})`,
                  legend: '{{route}}',
                },
              ],
              thresholds: errors,
            },
            {
              title: 'Average request / response size',
              kind: 'timeseries',
              unit: 'bytes',
              queries: [
                {
                  expr: `sum(rate(${m('http_request_size_bytes_sum')}[$__rate_interval])) / sum(rate(${m('http_request_size_bytes_count')}[$__rate_interval]))`,
                  legend: 'request',
                },
                {
                  expr: `sum(rate(${m('http_response_size_bytes_sum')}[$__rate_interval])) / sum(rate(${m('http_response_size_bytes_count')}[$__rate_interval]))`,
                  legend: 'response',
                },
              ],
            },
          ],
        },
        {
          title: 'SLO',
          panels: [
            {
              title: 'Availability error ratio by window',
              kind: 'timeseries',
              unit: 'percentunit',
              queries: ['5m', '1h', '6h', '1d', '3d'].map((w) => ({ expr: errRatio(w), legend: w })),
              thresholds: { warning: 1 - o.sloTarget },
            },
            {
              title: `Ratio of requests slower than ${o.latencySlo.thresholdSeconds}s`,
              kind: 'timeseries',
              unit: 'percentunit',
              queries: ['5m', '1h', '6h', '1d', '3d'].map((w) => ({
                expr: rec(`job:${p}http_request_slow:ratio_rate${w}`),
                legend: w,
              })),
              thresholds: { warning: 1 - o.latencySlo.target },
            },
          ],
        },
      ],
    },
    {
      file: 'bot-performance.json',
      uid: uid('bot-performance'),
      title: 'DEIA / Bot Performance',
      rows: [
        {
          title: 'Bots',
          panels: [
            {
              title: 'Bot instances by status',
              kind: 'timeseries',
              unit: 'short',
              queries: [{ expr: `sum by (status) (${m('bot_instances')})`, legend: '{{status}}' }],
            },
            {
              title: 'Bot startup time',
              kind: 'timeseries',
              unit: 's',
              queries: percentiles('bot_startup_duration_seconds'),
            },
            {
              title: 'Message processing latency',
              kind: 'timeseries',
              unit: 's',
              queries: percentiles('bot_message_processing_duration_seconds'),
              thresholds: { warning: t.messageProcessingP95 },
            },
            {
              title: 'Messages per minute by outcome',
              kind: 'timeseries',
              unit: 'short',
              queries: [
                { expr: `${rate('bot_messages_processed_total', 'outcome')} * 60`, legend: '{{outcome}}' },
              ],
            },
            {
              title: 'Message errors by bot',
              kind: 'timeseries',
              unit: 'short',
              queries: [
                {
                  expr: `topk(10, sum by (bot_id) (increase(${m('bot_messages_processed_total', 'outcome="error"')}[$__rate_interval])))`,
                  legend: '{{bot_id}}',
                },
              ],
            },
            {
              title: 'Restarts in 10m by bot',
              kind: 'timeseries',
              unit: 'short',
              queries: [
                { expr: `sum by (bot_id) (increase(${m('bot_restarts_total')}[10m]))`, legend: '{{bot_id}}' },
              ],
              thresholds: { warning: t.crashLoopWarning, critical: t.crashLoopCritical },
            },
            {
              title: 'Start errors in 5m by bot',
              kind: 'timeseries',
              unit: 'short',
              queries: [
                {
                  expr: `sum by (bot_id) (increase(${m('bot_start_errors_total')}[5m]))`,
                  legend: '{{bot_id}}',
                },
              ],
            },
            // Opt-in: the SDK has no helper writing these (options.optional.botResources).
            ...(o.optional.botResources
              ? ([
                  {
                    title: 'CPU per bot',
                    kind: 'timeseries',
                    unit: 'percentunit',
                    queries: [{ expr: m('bot_cpu_usage_ratio'), legend: '{{bot_id}}' }],
                  },
                  {
                    title: 'Memory per bot',
                    kind: 'timeseries',
                    unit: 'bytes',
                    queries: [{ expr: m('bot_memory_bytes'), legend: '{{bot_id}}' }],
                  },
                ] satisfies PanelSpec[])
              : []),
          ],
        },
        {
          title: 'Queue',
          panels: [
            {
              title: 'Queue depth',
              kind: 'timeseries',
              unit: 'short',
              queries: [{ expr: `max by (queue) (${m('task_queue_depth')})`, legend: '{{queue}}' }],
              thresholds: { warning: t.queueBacklogWarning, critical: t.queueBacklogCritical },
            },
            {
              title: 'Queue depth trend (per second, 15m)',
              kind: 'timeseries',
              unit: 'short',
              queries: [{ expr: rec(`job_queue:${p}task_queue_depth:deriv15m`), legend: '{{queue}}' }],
            },
            {
              title: 'Dispatch latency',
              kind: 'timeseries',
              unit: 's',
              queries: percentiles('bot_dispatch_latency_seconds'),
              thresholds: { warning: t.dispatchLatencyP50 },
            },
            {
              title: 'Tasks per second',
              kind: 'timeseries',
              unit: 'short',
              queries: [
                { expr: rate('task_enqueued_total', 'queue'), legend: 'enqueued {{queue}}' },
                { expr: rate('task_completed_total', 'queue'), legend: 'completed {{queue}}' },
                { expr: rate('task_failed_total', 'queue'), legend: 'failed {{queue}}' },
              ],
            },
            {
              title: 'Queue wait',
              kind: 'timeseries',
              unit: 's',
              queries: percentiles('task_queue_wait_seconds'),
            },
          ],
        },
      ],
    },
    {
      file: 'database.json',
      uid: uid('database'),
      title: 'DEIA / Database',
      rows: [
        {
          title: 'PostgreSQL',
          panels: [
            {
              title: 'Database health check',
              kind: 'stat',
              unit: 'short',
              queries: [{ expr: `min(${m('health_check_up', `check=~"${o.checks.database}"`)})` }],
              thresholds: { warning: 1, lowerIsWorse: true },
            },
            {
              title: 'Pool utilisation',
              kind: 'gauge',
              unit: 'percentunit',
              queries: [{ expr: `max(${poolUtil})` }],
              thresholds: pool,
              min: 0,
              max: 1,
            },
            {
              title: 'Pool connections',
              kind: 'timeseries',
              unit: 'short',
              queries: ['active', 'idle', 'waiting', 'max'].map((k) => ({
                expr: `sum by (pool) (${m(`db_connection_pool_${k}`)})`,
                legend: `${k} {{pool}}`,
              })),
            },
            {
              title: 'Pool utilisation over time',
              kind: 'timeseries',
              unit: 'percentunit',
              queries: [{ expr: poolUtil, legend: '{{instance}} {{pool}}' }],
              thresholds: pool,
            },
            {
              title: 'Query duration p95 by operation',
              kind: 'timeseries',
              unit: 's',
              queries: [
                { expr: q(0.95, 'db_query_duration_seconds', 'operation, '), legend: '{{operation}}' },
              ],
              thresholds: { warning: t.dbQueryP95 },
            },
            {
              title: 'Query rate and errors',
              kind: 'timeseries',
              unit: 'ops',
              queries: [
                {
                  expr: `sum(rate(${m('db_query_duration_seconds_count')}[$__rate_interval]))`,
                  legend: 'queries',
                },
                { expr: `sum(rate(${m('db_query_errors_total')}[$__rate_interval]))`, legend: 'errors' },
              ],
            },
          ],
        },
      ],
    },
    {
      file: 'cache.json',
      uid: uid('cache'),
      title: 'DEIA / Cache',
      rows: [
        {
          title: 'Cache',
          panels: [
            {
              title: 'Cache health check',
              kind: 'stat',
              unit: 'short',
              queries: [{ expr: `min(${m('health_check_up', `check=~"${o.checks.cache}"`)})` }],
              thresholds: { warning: 1, lowerIsWorse: true },
            },
            {
              title: 'Hit ratio',
              kind: 'stat',
              unit: 'percentunit',
              queries: [{ expr: `avg(${cacheRatio})` }],
              thresholds: cacheHit,
            },
            {
              title: 'Hit ratio over time',
              kind: 'timeseries',
              unit: 'percentunit',
              queries: [{ expr: cacheRatio, legend: '{{cache}}' }],
              thresholds: cacheHit,
            },
            {
              title: 'Hits and misses',
              kind: 'timeseries',
              unit: 'ops',
              queries: [
                { expr: rate('cache_hits_total', 'cache'), legend: 'hits {{cache}}' },
                { expr: rate('cache_misses_total', 'cache'), legend: 'misses {{cache}}' },
              ],
            },
            {
              title: 'Command latency p95',
              kind: 'timeseries',
              unit: 's',
              queries: [
                { expr: q(0.95, 'cache_command_duration_seconds', 'command, '), legend: '{{command}}' },
              ],
            },
          ],
        },
      ],
    },
    {
      file: 'dependencies.json',
      uid: uid('dependencies'),
      title: 'DEIA / Dependencies and Operations',
      rows: [
        {
          title: 'Dependencies',
          panels: [
            {
              title: 'Health checks',
              kind: 'timeseries',
              unit: 'short',
              queries: [{ expr: `min by (check) (${m('health_check_up')})`, legend: '{{check}}' }],
            },
            {
              title: 'Dependency latency p95',
              kind: 'timeseries',
              unit: 's',
              queries: [
                {
                  expr: q(0.95, 'dependency_request_duration_seconds', 'dependency, '),
                  legend: '{{dependency}}',
                },
              ],
              thresholds: deps,
            },
            {
              title: 'Ollama latency p95',
              kind: 'timeseries',
              unit: 's',
              queries: [
                {
                  expr: q(0.95, 'llm_request_duration_seconds', 'model, operation, '),
                  legend: '{{model}} {{operation}}',
                },
              ],
              thresholds: deps,
            },
            {
              title: 'Ollama errors',
              kind: 'timeseries',
              unit: 'ops',
              queries: [
                {
                  expr: rate('llm_request_errors_total', 'model, operation'),
                  legend: '{{model}} {{operation}}',
                },
              ],
            },
            {
              title: 'LLM tokens per second',
              kind: 'timeseries',
              unit: 'short',
              queries: [{ expr: rate('llm_tokens_total', 'model, type'), legend: '{{model}} {{type}}' }],
            },
          ],
        },
        {
          title: 'Process',
          panels: [
            {
              title: 'Event-loop lag p99',
              kind: 'timeseries',
              unit: 's',
              queries: [{ expr: m('nodejs_eventloop_lag_p99_seconds'), legend: '{{instance}}' }],
              thresholds: { warning: t.eventLoopLag },
            },
            {
              title: 'File descriptors used',
              kind: 'timeseries',
              unit: 'percentunit',
              queries: [
                { expr: `${m('process_open_fds')} / ${m('process_max_fds')}`, legend: '{{instance}}' },
              ],
              thresholds: { warning: t.fileDescriptors },
            },
            {
              title: 'Uptime',
              kind: 'stat',
              unit: 's',
              queries: [{ expr: `min(${m('process_uptime_seconds')})` }],
            },
            // Opt-in: the SDK has no helper writing these (options.optional.websocket / .auth).
            ...(o.optional.websocket
              ? ([
                  {
                    title: 'WebSocket connections',
                    kind: 'timeseries',
                    unit: 'short',
                    queries: [{ expr: `sum(${m('websocket_connections')})`, legend: 'open' }],
                  },
                  {
                    title: 'WebSocket disconnects per minute',
                    kind: 'timeseries',
                    unit: 'short',
                    queries: [
                      { expr: `${rate('websocket_disconnect_total', 'reason')} * 60`, legend: '{{reason}}' },
                    ],
                    thresholds: { warning: t.websocketDisconnectsPerMinute },
                  },
                ] satisfies PanelSpec[])
              : []),
            ...(o.optional.auth
              ? ([
                  {
                    title: 'Auth failures in 5m',
                    kind: 'timeseries',
                    unit: 'short',
                    queries: [{ expr: `sum(increase(${m('auth_failures_total')}[5m]))`, legend: 'failures' }],
                    thresholds: { warning: t.authFailures },
                  },
                ] satisfies PanelSpec[])
              : []),
            {
              title: 'Rate-limited requests',
              kind: 'timeseries',
              unit: 'reqps',
              queries: [
                {
                  expr: `sum(rate(${m('rate_limited_requests_total')}[$__rate_interval]))`,
                  legend: 'rate limited',
                },
              ],
            },
          ],
        },
      ],
    },
  ];
  if (o.nodeExporter.enabled) {
    // node_exporter is its own job with its own instances: only `$cluster` applies to it.
    const cluster = o.grafana.clusterVariable ? 'cluster=~"$cluster",' : '';
    const fs = `${cluster}job="${o.nodeExporter.job}",fstype!~"tmpfs|devtmpfs|overlay|squashfs|ramfs|nsfs|fuse.lxcfs"`;
    dashboards[5]?.rows.push({
      title: 'Host (node_exporter)',
      panels: [
        {
          title: 'Disk free',
          kind: 'timeseries',
          unit: 'percentunit',
          queries: [
            {
              expr: `node_filesystem_avail_bytes{${fs}} / node_filesystem_size_bytes{${fs}}`,
              legend: '{{instance}} {{mountpoint}}',
            },
          ],
          thresholds: { warning: t.diskFreeWarning, critical: t.diskFreeCritical, lowerIsWorse: true },
        },
      ],
    });
  }
  return dashboards;
}

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
    );
  // Stable panel ids: sequential per dashboard in declaration order (rows included), so links to a
  // panel (`viewPanel=`) survive regeneration as long as the panels before it do not change.
  let id = 0;
  for (const row of spec.rows) {
    d.withRow(new RowBuilder(row.title).id(++id));
    for (const p of row.panels) d.withPanel(panel(p).id(++id));
  }
  return d.build();
}
