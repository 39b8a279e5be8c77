import { parseDuration } from './options.js';
import { dashboardUrl, leMatcher, requireBucketBound, scaleWindows } from './rule-helpers.js';
import type { AlertRule, RecordingRule, ResolvedOpsOptions, RuleGroup, Severity } from './types.js';

export {
  alertRules,
  leMatcher,
  recordingRuleNames,
  requireBucketBound,
  scaleWindows,
} from './rule-helpers.js';

/** Windows of the multiwindow, multi-burn-rate SLO alerts (Google SRE workbook, chapter 5). */
export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/** Burn-rate pairs: factor, long window, short window, severity (page = critical, ticket = warning). */
export const BURN_RATES = [
  { factor: 14.4, long: '1h', short: '5m', severity: 'critical' },
  { factor: 6, long: '6h', short: '30m', severity: 'critical' },
  { factor: 3, long: '1d', short: '2h', severity: 'warning' },
  { factor: 1, long: '3d', short: '6h', severity: 'warning' },
] as const;

type Unit = 'percent' | 'duration' | 'bytes' | 'number';

const HUMANIZE: Record<Unit, string> = {
  percent: '{{ $value | humanizePercentage }}',
  duration: '{{ $value | humanizeDuration }}',
  bytes: '{{ $value | humanize1024 }}B',
  number: '{{ $value | humanize }}',
};

const round = (n: number) => Number(n.toPrecision(6));

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

/** Builds the rule groups of rules.yml from resolved options. */
export function buildRuleGroups(o: ResolvedOpsOptions): RuleGroup[] {
  const p = o.prefix;
  const t = o.thresholds;
  const sel = (extra?: string) => `{${o.selector}${extra ? `,${extra}` : ''}}`;
  const m = (name: string, extra?: string) => `${p}${name}${sel(extra)}`;
  /**
   * `part / total` by `by`, 0 (not missing) while `part` has no series yet: the 5xx series of a
   * route only exists after its first 5xx.
   */
  const ratio = (by: string, part: string, total: string, w: string) =>
    `(sum by (${by}) (rate(${part}[${w}])) or 0 * sum by (${by}) (rate(${total}[${w}])))\n/\nsum by (${by}) (rate(${total}[${w}]))`;
  /** The min-traffic clause of ratio alerts: quiet below `thresholds.minRequestRate` per second. */
  const enough = (by: string, total: string, w = '5m') =>
    `\nand on (${by})\nsum by (${by}) (rate(${total}[${w}])) > ${t.minRequestRate}`;
  const httpTotal = m('http_requests_total');
  requireBucketBound(
    'bot_dispatch_latency_seconds',
    t.dispatchLatencyP50,
    'thresholds.dispatchLatencyP50',
    false,
  );
  for (const [key, metric] of [
    ['latencyP95Warning', 'http_request_duration_seconds'],
    ['latencyP95Critical', 'http_request_duration_seconds'],
    ['dbQueryP95', 'db_query_duration_seconds'],
    ['messageProcessingP95', 'bot_message_processing_duration_seconds'],
    ['dependencyLatencyWarning', 'dependency_request_duration_seconds'],
    ['dependencyLatencyCritical', 'dependency_request_duration_seconds'],
    ['dependencyLatencyWarning', 'llm_request_duration_seconds'],
    ['dependencyLatencyCritical', 'llm_request_duration_seconds'],
  ] as const) {
    requireBucketBound(metric, t[key], `thresholds.${key}`);
  }
  requireBucketBound(
    'http_request_duration_seconds',
    o.latencySlo.thresholdSeconds,
    'latencySlo.thresholdSeconds',
  );
  const quantile = (q: number, name: string, by: string, w = '5m', extra?: string) =>
    `histogram_quantile(${q}, sum by (${by}le) (rate(${m(`${name}_bucket`, extra)}[${w}])))`;
  /** The LLM backends have their own alerts on llm_request_*: one failure, one alert. */
  const notLlm = `dependency!~"${o.llmDependencies}"`;

  const rec = {
    reqRate: `job:${p}http_requests:rate5m`,
    reqRateRoute: `job_route:${p}http_requests:rate5m`,
    errRatio: (w: string) => `job:${p}http_request_errors:ratio_rate${w}`,
    errRatioRoute: `job_route:${p}http_request_errors:ratio_rate5m`,
    slowRatio: (w: string) => `job:${p}http_request_slow:ratio_rate${w}`,
    latency: (q: string) => `job:${p}http_request_duration_seconds:${q}_5m`,
    latencyRoute: (q: string) => `job_route:${p}http_request_duration_seconds:${q}_5m`,
    cacheHit: `job_cache:${p}cache_hit:ratio_rate5m`,
    dbPool: `instance_pool:${p}db_connection_pool_utilisation:ratio`,
    queueTrend: `job_queue:${p}task_queue_depth:deriv15m`,
  };

  const http: RecordingRule[] = [
    { record: rec.reqRate, expr: `sum by (job) (rate(${m('http_requests_total')}[5m]))` },
    { record: rec.reqRateRoute, expr: `sum by (job, route) (rate(${m('http_requests_total')}[5m]))` },
    {
      record: rec.errRatioRoute,
      expr: ratio('job, route', m('http_requests_total', 'status=~"5.."'), httpTotal, '5m'),
    },
  ];
  for (const [q, name] of [
    [0.5, 'p50'],
    [0.95, 'p95'],
    [0.99, 'p99'],
  ] as const) {
    http.push({ record: rec.latency(name), expr: quantile(q, 'http_request_duration_seconds', 'job, ') });
    http.push({
      record: rec.latencyRoute(name),
      expr: quantile(q, 'http_request_duration_seconds', 'job, route, '),
    });
  }
  const le = leMatcher(o.latencySlo.thresholdSeconds);
  const slo: RecordingRule[] = [];
  for (const w of SLO_WINDOWS) {
    slo.push({
      record: rec.errRatio(w),
      expr: ratio('job', m('http_requests_total', 'status=~"5.."'), httpTotal, w),
    });
  }
  for (const w of SLO_WINDOWS) {
    slo.push({
      record: rec.slowRatio(w),
      expr: `1 - (\n  sum by (job) (rate(${m('http_request_duration_seconds_bucket', le)}[${w}]))\n  /\n  sum by (job) (rate(${m('http_request_duration_seconds_count')}[${w}]))\n)`,
    });
  }
  const resources: RecordingRule[] = [
    {
      record: rec.cacheHit,
      expr: `sum by (job, cache) (rate(${m('cache_hits_total')}[5m]))\n/\n(sum by (job, cache) (rate(${m('cache_hits_total')}[5m])) + sum by (job, cache) (rate(${m('cache_misses_total')}[5m])))`,
    },
    {
      record: rec.dbPool,
      expr: `max by (job, instance, pool) (${m('db_connection_pool_active')})\n/\n(max by (job, instance, pool) (${m('db_connection_pool_max')}) > 0)`,
    },
    { record: rec.queueTrend, expr: `sum by (job, queue) (deriv(${m('task_queue_depth')}[15m]))` },
  ];

  const alert = (
    name: string,
    severity: Severity,
    forKey: keyof ResolvedOpsOptions['for'],
    expr: string,
    summary: string,
    description: string,
  ): AlertRule => {
    const f = o.for[forKey];
    return {
      alert: name,
      expr,
      ...(f === '0s' ? {} : { for: f }),
      labels: { severity },
      annotations: {
        summary,
        description,
        runbook_url: `${o.runbookBaseUrl}/${name}.md`,
        ...(o.grafana.url ? { dashboard_url: dashboardUrl(o.grafana.url, o.grafana.uidPrefix, name) } : {}),
      },
    };
  };
  /** A warning and a critical rule under one alert name (Alertmanager inhibits the warning). */
  const pair = (
    name: string,
    key:
      | 'errorRatio'
      | 'latencyP95'
      | 'dbPool'
      | 'memory'
      | 'crashLoop'
      | 'queueBacklog'
      | 'dependencyLatency'
      | 'dependencyErrorRatio'
      | 'diskFree',
    unit: Unit,
    expr: (threshold: number) => string,
    summary: string,
    description: (threshold: string) => string,
  ): AlertRule[] =>
    (['warning', 'critical'] as const).map((severity) => {
      const k = `${key}${severity === 'warning' ? 'Warning' : 'Critical'}` as const;
      const th = t[k];
      return alert(name, severity, k, expr(th), summary, description(formatThreshold(th, unit)));
    });
  const v = HUMANIZE;

  const service: AlertRule[] = [
    alert(
      'TargetMissing',
      'critical',
      'targetMissing',
      `absent(up${sel()})`,
      'No target of job {{ $labels.job }} is being scraped',
      `Prometheus has no \`up\` series for {{ $labels.job }} for ${o.for.targetMissing}: the target vanished from service discovery or the scrape config, so every other alert of this job is blind.`,
    ),
    alert(
      'ServiceDown',
      'critical',
      'serviceDown',
      `up${sel()} == 0`,
      'Service {{ $labels.job }} on {{ $labels.instance }} is down',
      `Prometheus could not scrape {{ $labels.instance }} (job {{ $labels.job }}) for more than ${o.for.serviceDown}.`,
    ),
    ...pair(
      'HighErrorRate',
      'errorRatio',
      'percent',
      (th) => `${rec.errRatio('5m')} > ${th}${enough('job', httpTotal)}`,
      'High 5xx error ratio on {{ $labels.job }}',
      (th) =>
        `${v.percent} of requests to {{ $labels.job }} answered 5xx over the last 5m (threshold ${th}).`,
    ),
    ...pair(
      'HighLatency',
      'latencyP95',
      'duration',
      (th) => `${rec.latency('p95')} > ${th}${enough('job', httpTotal)}`,
      'High p95 latency on {{ $labels.job }}',
      (th) =>
        `p95 request duration of {{ $labels.job }} is ${v.duration} over the last 5m (threshold ${th}).`,
    ),
    alert(
      'SlowDatabaseQueries',
      'warning',
      'dbQueryP95',
      `${quantile(0.95, 'db_query_duration_seconds', 'job, operation, ')} > ${t.dbQueryP95}`,
      'Slow database queries ({{ $labels.operation }}) on {{ $labels.job }}',
      `p95 duration of {{ $labels.operation }} queries is ${v.duration} (threshold ${formatThreshold(t.dbQueryP95, 'duration')}).`,
    ),
    ...pair(
      'DatabasePoolSaturation',
      'dbPool',
      'percent',
      (th) => `${rec.dbPool} > ${th}`,
      'Database pool {{ $labels.pool }} on {{ $labels.instance }} is nearly exhausted',
      (th) =>
        `${v.percent} of the connections of pool {{ $labels.pool }} on {{ $labels.instance }} are in use (threshold ${th}).`,
    ),
    alert(
      'DatabaseDown',
      'critical',
      'databaseDown',
      `${m('health_check_up', `check=~"${o.checks.database}"`)} == 0`,
      'Database unreachable from {{ $labels.instance }}',
      'Health check {{ $labels.check }} on {{ $labels.instance }} (job {{ $labels.job }}) is failing.',
    ),
    alert(
      'CacheDown',
      'warning',
      'cacheDown',
      `${m('health_check_up', `check=~"${o.checks.cache}"`)} == 0`,
      'Cache unreachable from {{ $labels.instance }} (non-critical)',
      'Health check {{ $labels.check }} on {{ $labels.instance }} (job {{ $labels.job }}) is failing; requests fall back to the database.',
    ),
  ];
  if (o.optional.auth)
    service.push(
      alert(
        'AuthFailureSpike',
        'warning',
        'authFailures',
        `sum by (job) (increase(${m('auth_failures_total')}[5m])) > ${t.authFailures}`,
        'Authentication failures spiking on {{ $labels.job }}',
        `${v.number} failed authentication attempts on {{ $labels.job }} in the last 5m (threshold ${t.authFailures}).`,
      ),
    );
  // Per minute, rounded to 0.001 so exactly the threshold (20.0000000000000036 after *60) is not above it.
  if (o.optional.websocket)
    service.push(
      alert(
        'WebSocketDisconnectSpike',
        'warning',
        'websocketDisconnects',
        `round(sum by (job) (rate(${m('websocket_disconnect_total')}[5m])) * 60, 0.001) > ${t.websocketDisconnectsPerMinute}`,
        'WebSocket disconnects spiking on {{ $labels.job }}',
        `{{ $labels.job }} loses ${v.number} WebSocket connections per minute (threshold ${t.websocketDisconnectsPerMinute}).`,
      ),
    );

  const processAlerts: AlertRule[] = [
    ...pair(
      'HighMemoryUsage',
      'memory',
      'bytes',
      (th) => `${m('process_resident_memory_bytes')} > ${th}`,
      'High memory usage on {{ $labels.instance }}',
      (th) => `Resident memory of {{ $labels.instance }} is ${v.bytes} (threshold ${th}).`,
    ),
    alert(
      'MemoryLeakSuspected',
      'warning',
      'memoryGrowth',
      `delta(${m('process_resident_memory_bytes')}[15m]) > ${t.memoryGrowth}`,
      'Memory of {{ $labels.instance }} keeps growing',
      `Resident memory of {{ $labels.instance }} grew by ${v.bytes} in 15m (threshold ${formatThreshold(t.memoryGrowth, 'bytes')}).`,
    ),
    alert(
      'HighCPUUsage',
      'warning',
      'cpu',
      `rate(${m('process_cpu_seconds_total')}[5m]) > ${t.cpu}`,
      'High CPU usage on {{ $labels.instance }}',
      `{{ $labels.instance }} uses ${v.percent} of one CPU core (threshold ${formatThreshold(t.cpu, 'percent')}).`,
    ),
    alert(
      'FileDescriptorsExhaustion',
      'warning',
      'fileDescriptors',
      `${m('process_open_fds')} / ${m('process_max_fds')} > ${t.fileDescriptors}`,
      'File descriptors nearly exhausted on {{ $labels.instance }}',
      `{{ $labels.instance }} has ${v.percent} of its file descriptor limit open (threshold ${formatThreshold(t.fileDescriptors, 'percent')}).`,
    ),
    alert(
      'EventLoopLag',
      'warning',
      'eventLoopLag',
      `${m('nodejs_eventloop_lag_p99_seconds')} > ${t.eventLoopLag}`,
      'Event loop lagging on {{ $labels.instance }}',
      `p99 event-loop lag of {{ $labels.instance }} is ${v.duration} (threshold ${formatThreshold(t.eventLoopLag, 'duration')}).`,
    ),
  ];

  const bots: AlertRule[] = [
    alert(
      'BotStartErrors',
      'warning',
      'botStartErrors',
      `sum by (job, bot_id) (increase(${m('bot_start_errors_total')}[5m])) > ${t.botStartErrors}`,
      'Bot {{ $labels.bot_id }} fails to start',
      `Bot {{ $labels.bot_id }} failed to start ${v.number} times in the last 5m.`,
    ),
    ...pair(
      'BotCrashLoop',
      'crashLoop',
      'number',
      (th) => `sum by (job, bot_id) (increase(${m('bot_restarts_total')}[10m])) >= ${th}`,
      'Bot {{ $labels.bot_id }} is crash-looping',
      (th) => `Bot {{ $labels.bot_id }} restarted ${v.number} times in the last 10m (threshold ${th}).`,
    ),
    ...pair(
      'QueueBacklog',
      'queueBacklog',
      'number',
      (th) => `max by (job, queue) (${m('task_queue_depth')}) > ${th}`,
      'Task queue {{ $labels.queue }} is backing up',
      (th) => `${v.number} tasks are waiting in queue {{ $labels.queue }} (threshold ${th}).`,
    ),
    alert(
      'BotDispatchSlow',
      'warning',
      'dispatchLatencyP50',
      // A bucket ratio, not a quantile: the median is above the bound exactly when fewer than half
      // of the dispatches fall in its bucket, also when the bound is the last finite one.
      `sum by (job) (rate(${m('bot_dispatch_latency_seconds_bucket', leMatcher(t.dispatchLatencyP50))}[5m]))\n/\nsum by (job) (rate(${m('bot_dispatch_latency_seconds_count')}[5m]))\n< 0.5`,
      'Dispatching messages to bots is slow on {{ $labels.job }}',
      `Only ${v.percent} of dispatches took ${formatThreshold(t.dispatchLatencyP50, 'duration')} or less over the last 5m: the median dispatch latency is above ${formatThreshold(t.dispatchLatencyP50, 'duration')}.`,
    ),
    alert(
      'MessageProcessingSlow',
      'warning',
      'messageProcessingP95',
      `${quantile(0.95, 'bot_message_processing_duration_seconds', 'job, ')} > ${t.messageProcessingP95}`,
      'Bots process messages slowly on {{ $labels.job }}',
      `p95 message processing time is ${v.duration} (threshold ${formatThreshold(t.messageProcessingP95, 'duration')}).`,
    ),
  ];

  const deps: AlertRule[] = [
    ...pair(
      'DependencyLatencyHigh',
      'dependencyLatency',
      'duration',
      (th) =>
        `${quantile(0.95, 'dependency_request_duration_seconds', 'job, dependency, ', '5m', notLlm)} > ${th}${enough('job, dependency', m('dependency_request_duration_seconds_count', notLlm))}`,
      'Dependency {{ $labels.dependency }} is slow',
      (th) => `p95 latency of calls to {{ $labels.dependency }} is ${v.duration} (threshold ${th}).`,
    ),
    ...pair(
      'OllamaLatencyHigh',
      'dependencyLatency',
      'duration',
      (th) =>
        `${quantile(0.95, 'llm_request_duration_seconds', 'job, model, operation, ')} > ${th}${enough('job, model, operation', m('llm_request_duration_seconds_count'))}`,
      'Ollama {{ $labels.operation }} on {{ $labels.model }} is slow',
      (th) =>
        `p95 latency of {{ $labels.operation }} on model {{ $labels.model }} is ${v.duration} (threshold ${th}).`,
    ),
    ...pair(
      'DependencyErrorRate',
      'dependencyErrorRatio',
      'percent',
      (th) =>
        `${ratio('job, dependency', m('dependency_request_duration_seconds_count', `outcome="error",${notLlm}`), m('dependency_request_duration_seconds_count', notLlm), '5m')}\n> ${th}${enough('job, dependency', m('dependency_request_duration_seconds_count', notLlm))}`,
      'Calls to dependency {{ $labels.dependency }} are failing',
      (th) => `${v.percent} of calls to {{ $labels.dependency }} failed over the last 5m (threshold ${th}).`,
    ),
    ...pair(
      'OllamaErrorRate',
      'dependencyErrorRatio',
      'percent',
      (th) =>
        `${ratio('job, model, operation', m('llm_request_errors_total'), m('llm_request_duration_seconds_count'), '5m')}\n> ${th}${enough('job, model, operation', m('llm_request_duration_seconds_count'))}`,
      'Ollama {{ $labels.operation }} on {{ $labels.model }} is failing',
      (th) =>
        `${v.percent} of {{ $labels.operation }} requests on model {{ $labels.model }} failed over the last 5m (threshold ${th}).`,
    ),
    alert(
      'CacheHitRatioLow',
      'info',
      'cacheHitRatio',
      `${rec.cacheHit} < ${t.cacheHitRatio}\nand on (job, cache)\n(sum by (job, cache) (rate(${m('cache_hits_total')}[5m])) + sum by (job, cache) (rate(${m('cache_misses_total')}[5m]))) > ${t.minRequestRate}`,
      'Cache {{ $labels.cache }} hit ratio is low',
      `Cache {{ $labels.cache }} hits ${v.percent} of lookups (threshold ${formatThreshold(t.cacheHitRatio, 'percent')}).`,
    ),
  ];

  const burn = (name: string, ratio: (w: string) => string, target: number, what: string): AlertRule[] => {
    const budget = 1 - target;
    const cond = (r: (typeof BURN_RATES)[number]) =>
      `(${ratio(r.long)} > ${round(r.factor * budget)} and ${ratio(r.short)} > ${round(r.factor * budget)}${enough('job', httpTotal).replace(/\n/g, ' ')})`;
    const pct = formatThreshold(target, 'percent');
    return (['critical', 'warning'] as const).map((severity) => {
      const rates = BURN_RATES.filter((r) => r.severity === severity);
      const explain = rates.map((r) => `${r.factor}x over ${r.long} and ${r.short}`).join(', or ');
      return alert(
        name,
        severity,
        severity === 'critical' ? 'sloPage' : 'sloTicket',
        rates.map(cond).join('\nor\n'),
        `{{ $labels.job }} is burning its ${pct} ${what} error budget ${severity === 'critical' ? 'fast' : 'steadily'}`,
        `${v.percent} of requests ${what === 'availability' ? 'failed' : `were slower than ${formatThreshold(o.latencySlo.thresholdSeconds, 'duration')}`} over the long window; burn rate above ${explain} (budget ${formatThreshold(budget, 'percent')}).`,
      );
    });
  };
  const sloAlerts = [
    ...burn('AvailabilityBudgetBurn', rec.errRatio, o.sloTarget, 'availability'),
    ...burn('LatencyBudgetBurn', rec.slowRatio, o.latencySlo.target, 'latency'),
  ];

  const groups: RuleGroup[] = [
    { name: 'deia.recording.http', rules: http },
    { name: 'deia.recording.slo', rules: slo },
    { name: 'deia.recording.resources', rules: resources },
    { name: 'deia.alerts.service', rules: service },
    { name: 'deia.alerts.process', rules: processAlerts },
    { name: 'deia.alerts.bots', rules: bots },
    { name: 'deia.alerts.dependencies', rules: deps },
    { name: 'deia.alerts.slo', rules: sloAlerts },
  ];
  if (o.nodeExporter.enabled) {
    const fs = `job="${o.nodeExporter.job}",fstype!~"tmpfs|devtmpfs|overlay|squashfs|ramfs|nsfs|fuse.lxcfs"`;
    groups.push({
      name: 'deia.alerts.host',
      rules: (['warning', 'critical'] as const).map((severity) => {
        const k = severity === 'warning' ? 'diskFreeWarning' : 'diskFreeCritical';
        return alert(
          'HostDiskSpaceLow',
          severity,
          k,
          `node_filesystem_avail_bytes{${fs}} / node_filesystem_size_bytes{${fs}} < ${t[k]}`,
          'Disk {{ $labels.mountpoint }} on {{ $labels.instance }} is filling up',
          `Only ${v.percent} of {{ $labels.mountpoint }} on {{ $labels.instance }} is free (threshold ${formatThreshold(t[k], 'percent')}; from node_exporter).`,
        );
      }),
    });
  }
  if (o.windowScale === 1) return groups;
  const scale = (expr: string) => scaleWindows(expr, o.windowScale, parseDuration(o.windowFloor));
  return groups.map((g) => ({ ...g, rules: g.rules.map((r) => ({ ...r, expr: scale(r.expr) })) }));
}
