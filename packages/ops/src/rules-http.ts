import { formatThreshold, type RuleContext, round } from './rule-context.js';
import type { AlertRule, RecordingRule } from './types.js';

/** Windows of the multiwindow, multi-burn-rate SLO alerts (Google SRE workbook, chapter 5). */
export const SLO_WINDOWS = ['5m', '30m', '1h', '2h', '6h', '1d', '3d'] as const;

/** Burn-rate pairs: factor, long window, short window, severity (page = critical, ticket = warning). */
export const BURN_RATES = [
  { factor: 14.4, long: '1h', short: '5m', severity: 'critical' },
  { factor: 6, long: '6h', short: '30m', severity: 'critical' },
  { factor: 3, long: '1d', short: '2h', severity: 'warning' },
  { factor: 1, long: '3d', short: '6h', severity: 'warning' },
] as const;

/** Names of the HTTP recording rules (with the prefix before the metric part). */
export function httpRecordNames(p: string) {
  return {
    reqRate: `job:${p}http_requests:rate5m`,
    reqRateRoute: `job_route:${p}http_requests:rate5m`,
    errRate: `job:${p}http_request_errors:rate5m`,
    errRatio: (w: string) => `job:${p}http_request_errors:ratio_rate${w}`,
    errRatioRoute: `job_route:${p}http_request_errors:ratio_rate5m`,
    timedRate: `job:${p}http_request_duration_seconds_count:rate5m`,
    fastRate: `job:${p}http_requests_within_latency_slo:rate5m`,
    slowRatio: (w: string) => `job:${p}http_request_slow:ratio_rate${w}`,
    latency: (q: string) => `job:${p}http_request_duration_seconds:${q}_5m`,
    latencyRoute: (q: string) => `job_route:${p}http_request_duration_seconds:${q}_5m`,
  };
}

/** High error ratio and p95 latency (warning and critical), and routes folded by maxRoutes. */
function httpServiceAlerts(x: RuleContext, job: string, total: string): AlertRule[] {
  const { o, c, v } = x;
  const rec = httpRecordNames(o.prefix);
  const service: AlertRule[] = [
    ...x.pair(
      'HighErrorRate',
      'errorRatio',
      'percent',
      (th) => `${x.rec(rec.errRatio('5m'))} > ${th}${x.enough(job, total)}`,
      'High 5xx error ratio on {{ $labels.job }}',
      (th) =>
        `${v.percent} of requests to {{ $labels.job }} answered 5xx over the last 5m (threshold ${th}).`,
    ),
    ...x.pair(
      'HighLatency',
      'latencyP95',
      'duration',
      (th) => `${x.rec(rec.latency('p95'))} > ${th}${x.enough(job, total)}`,
      'High p95 latency on {{ $labels.job }}',
      (th) =>
        `p95 request duration of {{ $labels.job }} is ${v.duration} over the last 5m (threshold ${th}).`,
    ),
  ];
  if (c.has('http_routes_overflowed')) {
    service.push(
      x.alert(
        'HttpRoutesOverflowed',
        'warning',
        o.for.routesOverflowed,
        `max by (${c.by('http_routes_overflowed', 'instance')}) (${c.m('http_routes_overflowed')}) > 0`,
        'Route templates folded into route="__overflow__" on {{ $labels.instance }}',
        `{{ $labels.instance }} has recorded ${v.number} route templates as route="__overflow__" (more than its maxRoutes): their requests are counted, but not by route. Raise maxRoutes, or fix the route whose template carries ids.`,
      ),
    );
  }
  return service;
}

/**
 * The budget-burn alerts of one SLO (a critical and a warning, each over its BURN_RATES pairs of
 * windows): `ratio(w)` is the bad share over window `w`, `target` the SLO.
 */
function burnAlerts(
  x: RuleContext,
  job: string,
  total: string,
  name: string,
  ratio: (w: string) => string,
  target: number,
  what: 'availability' | 'latency',
): AlertRule[] {
  const { o, v } = x;
  const budget = 1 - target;
  const cond = (r: (typeof BURN_RATES)[number]) =>
    `(${ratio(r.long)} > ${round(r.factor * budget)} and ${ratio(r.short)} > ${round(r.factor * budget)}${x.enough(job, total).replace(/\n/g, ' ')})`;
  const pct = formatThreshold(target, 'percent');
  return (['critical', 'warning'] as const).map((severity) => {
    const rates = BURN_RATES.filter((r) => r.severity === severity);
    const explain = rates.map((r) => `${r.factor}x over ${r.long} and ${r.short}`).join(', or ');
    return x.alert(
      name,
      severity,
      o.for[severity === 'critical' ? 'sloPage' : 'sloTicket'],
      rates.map(cond).join('\nor\n'),
      `{{ $labels.job }} is burning its ${pct} ${what} error budget ${severity === 'critical' ? 'fast' : 'steadily'}`,
      `${v.percent} of requests ${what === 'availability' ? 'failed' : `were slower than ${formatThreshold(o.latencySlo.thresholdSeconds, 'duration')}`} over the long window; burn rate above ${explain} (budget ${formatThreshold(budget, 'percent')}).`,
    );
  });
}

/**
 * HTTP recording rules, the SLO ratios and the HTTP alerts (`http` group). Windows above 5m are
 * computed from the recorded 5m rates (`sum_over_time` of the 5m error rate over `sum_over_time`
 * of the 5m request rate), not from `rate(raw[3d])` over every raw series at every evaluation.
 */
export function httpRules(x: RuleContext): {
  http: RecordingRule[];
  slo: RecordingRule[];
  service: AlertRule[];
  sloAlerts: AlertRule[];
} {
  const { o, t, c } = x;
  if (!c.has('http_requests_total') || !c.has('http_request_duration_seconds'))
    return { http: [], slo: [], service: [], sloAlerts: [] };
  const hist = 'http_request_duration_seconds';
  for (const key of ['latencyP95Warning', 'latencyP95Critical'] as const)
    x.bound(hist, t[key], `thresholds.${key}`, true);
  x.bound(hist, o.latencySlo.thresholdSeconds, 'latencySlo.thresholdSeconds', false);
  const rec = httpRecordNames(o.prefix);
  const total = c.m('http_requests_total');
  const errors = c.m('http_requests_total', 'status=~"5.."');
  const job = c.by('http_requests_total');
  const jobRoute = c.by('http_requests_total', 'route');
  const sloSeconds = o.latencySlo.thresholdSeconds;

  const http: RecordingRule[] = [
    { record: rec.reqRateRoute, expr: `sum by (${jobRoute}) (rate(${total}[5m]))` },
    { record: rec.errRatioRoute, expr: x.ratio(jobRoute, errors, total, '5m') },
  ];
  for (const [q, name] of [
    [0.5, 'p50'],
    [0.95, 'p95'],
    [0.99, 'p99'],
  ] as const) {
    http.push({ record: rec.latency(name), expr: x.quantile(q, hist, c.by(hist)) });
    http.push({ record: rec.latencyRoute(name), expr: x.quantile(q, hist, c.by(hist, 'route')) });
  }

  const long = SLO_WINDOWS.filter((w) => w !== '5m');
  // The 5m rates the long windows are built from, in the same group and before the ratios, so that
  // numerator and denominator cover the same evaluations (groups are evaluated independently).
  // Errors are 0, not missing, before the first 5xx.
  const slo: RecordingRule[] = [
    { record: rec.reqRate, expr: `sum by (${job}) (rate(${total}[5m]))` },
    {
      record: rec.errRate,
      expr: `sum by (${job}) (rate(${errors}[5m])) or 0 * sum by (${job}) (rate(${total}[5m]))`,
    },
    { record: rec.errRatio('5m'), expr: x.ratio(job, errors, total, '5m') },
    ...long.map((w) => ({
      record: rec.errRatio(w),
      expr: `sum_over_time(${x.rec(rec.errRate)}[${w}])\n/\nsum_over_time(${x.rec(rec.reqRate)}[${w}])`,
    })),
    { record: rec.timedRate, expr: `sum by (${job}) (rate(${c.m(`${hist}_count`)}[5m]))` },
    { record: rec.fastRate, expr: x.within(hist, job, sloSeconds) },
    {
      record: rec.slowRatio('5m'),
      expr: c.native(hist)
        ? `1 - ${x.share(hist, job, sloSeconds)}`
        : `1 - (\n  ${x.within(hist, job, sloSeconds)}\n  /\n  sum by (${job}) (rate(${c.m(`${hist}_count`)}[5m]))\n)`,
    },
    ...long.map((w) => ({
      record: rec.slowRatio(w),
      expr: `1 - (\n  sum_over_time(${x.rec(rec.fastRate)}[${w}])\n  /\n  sum_over_time(${x.rec(rec.timedRate)}[${w}])\n)`,
    })),
  ];

  const service = httpServiceAlerts(x, job, total);
  const sloAlerts = [
    ...burnAlerts(
      x,
      job,
      total,
      'AvailabilityBudgetBurn',
      (w) => x.rec(rec.errRatio(w)),
      o.sloTarget,
      'availability',
    ),
    ...burnAlerts(
      x,
      job,
      total,
      'LatencyBudgetBurn',
      (w) => x.rec(rec.slowRatio(w)),
      o.latencySlo.target,
      'latency',
    ),
  ];
  return { http, slo, service, sloAlerts };
}
