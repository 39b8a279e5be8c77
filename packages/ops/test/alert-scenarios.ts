// Scenarios for every shipped alert, turned into promtool tests by ops-alert-edges.test.ts: well
// past the threshold, the last level that must stay quiet and the first that must fire (the edge),
// low traffic (below thresholds.minRequestRate) and a scrape gap longer than the window. Each alert
// is described once by a probe: the SDK's series (their real label sets) at a given level.
import { CATALOG } from '@deia/metrics';
import { DEFAULT_OPS_OPTIONS } from '../src/index.js';
import { GENAI_CASES, GENAI_NO_TRAFFIC, inputSeries } from './genai-scenarios.js';

export const JOB = 'deia-bot-controller';
const INSTANCE = 'app:8000';
type Labels = Record<string, string>;
export type Severity = 'critical' | 'warning' | 'info';

/** A series of the probe: a counter growing by `counter` a minute from `start`, or a gauge. */
interface S {
  name: string;
  labels?: Labels;
  counter?: number;
  start?: number;
  gauge?: number;
}

export interface Probe {
  alert: string;
  /** Threshold per severity, in the unit of the probe's level. */
  th: Partial<Record<Severity, number>>;
  cmp: '>' | '>=' | '<';
  /** The smallest step past a threshold that the alert must see. */
  near: number;
  /** Labels the alert keeps (besides alertname, alertstate and severity). */
  labels: Labels;
  /** Series at `level`; `low` traffic is below minRequestRate. For a quantile, `bound` is the bucket the level is the share above. */
  series(level: number, traffic: 'normal' | 'low', bound: number): S[];
  /** Quantile alerts: the level is the share of observations above the bound, compared with 1 - q. */
  quantile?: number;
  /** Why low traffic does not apply (the alert is not a ratio or latency of requests). */
  noTraffic?: string;
  /** Minutes of data before the evaluation (window + for: + margin). @default 12 */
  at?: number;
  /** Minutes the series are missing in the gap case. @default at */
  gap?: number;
}

const T = DEFAULT_OPS_OPTIONS.thresholds;
const base = { job: JOB, instance: INSTANCE };
const jobOnly = { job: JOB };
const http = { method: 'GET', route: '/api/bots', status: '200' };
/** Requests a minute: 1/s normally, 0.05/s (below minRequestRate 0.1/s) when low. */
const perMin = (traffic: 'normal' | 'low') => (traffic === 'normal' ? 60 : 3);

/** Counters of a ratio: `part` of `traffic`. */
/** Levels of ratios and shares are clamped to [0, 1]. */
const clamp = (level: number) => Math.min(1, Math.max(0, level));

const ratio = (part: S, rest: S, l: number, traffic: 'normal' | 'low', restIsTotal = false): S[] => {
  const n = perMin(traffic);
  const level = clamp(l);
  return [
    { ...part, counter: level * n },
    { ...rest, counter: restIsTotal ? n : (1 - level) * n },
  ];
};

/** A histogram with a share `level` of observations just above `bound`, the rest in `bound`'s bucket. */
const histogram = (
  name: string,
  labels: Labels,
  level: number,
  traffic: 'normal' | 'low',
  bound: number,
): S[] => {
  const buckets = CATALOG.find((d) => d.name === name)?.buckets ?? [];
  const n = perMin(traffic);
  const i = buckets.indexOf(bound);
  if (i < 0) throw new Error(`${bound} is not a bound of ${name}`);
  const out: S[] = [];
  for (const b of [buckets[i - 1], bound, buckets[i + 1]]) {
    if (b === undefined) continue;
    const count = b < bound ? 0 : b === bound ? n * (1 - level) : n;
    out.push({ name: `${name}_bucket`, labels: { ...labels, le: String(b) }, counter: count });
  }
  out.push({ name: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, counter: n });
  out.push({ name: `${name}_count`, labels, counter: n });
  return out;
};

const lat = (th: 'Warning' | 'Critical') => T[`dependencyLatency${th}`];
/** An error budget as the generator prints it (1 - 0.995 is 0.0050000000000000044 in floating point). */
const budget = (target: number, factor = 1) => Number((factor * (1 - target)).toPrecision(6));

export const PROBES: Probe[] = [
  {
    alert: 'ServiceDown',
    th: { critical: 0.5 },
    cmp: '<',
    near: 0.5,
    labels: base,
    noTraffic: 'a target is up or not, whatever its traffic',
    series: (level) => [{ name: 'up', gauge: level < 0.5 ? 0 : 1 }],
  },
  {
    alert: 'HighErrorRate',
    th: { warning: T.errorRatioWarning, critical: T.errorRatioCritical },
    cmp: '>',
    near: 0.001,
    labels: jobOnly,
    series: (level, traffic) =>
      ratio(
        { name: 'http_requests_total', labels: { ...http, status: '500' } },
        { name: 'http_requests_total', labels: http },
        level,
        traffic,
      ),
  },
  {
    alert: 'HighLatency',
    th: { warning: T.latencyP95Warning, critical: T.latencyP95Critical },
    cmp: '>',
    near: 0.01,
    quantile: 0.95,
    labels: jobOnly,
    series: (level, traffic, bound) => [
      ...histogram('http_request_duration_seconds', http, level, traffic, bound),
      { name: 'http_requests_total', labels: http, counter: perMin(traffic) },
    ],
  },
  {
    alert: 'SlowDatabaseQueries',
    th: { warning: T.dbQueryP95 },
    cmp: '>',
    near: 0.01,
    quantile: 0.95,
    labels: { ...jobOnly, operation: 'select' },
    series: (level, traffic, bound) =>
      histogram('db_query_duration_seconds', { operation: 'select' }, level, traffic, bound),
  },
  {
    alert: 'DatabasePoolSaturation',
    th: { warning: T.dbPoolWarning, critical: T.dbPoolCritical },
    cmp: '>',
    near: 0.01,
    labels: { ...base, pool: 'default' },
    noTraffic: 'pool utilisation is a gauge, not a ratio of requests',
    series: (level) => [
      { name: 'db_connection_pool_active', labels: { pool: 'default' }, gauge: Math.round(level * 100) },
      { name: 'db_connection_pool_max', labels: { pool: 'default' }, gauge: 100 },
    ],
  },
  ...(
    [
      ['DatabaseDown', 'database', 'critical'],
      ['CacheDown', 'redis', 'warning'],
      ['OllamaDown', 'ollama', 'critical'],
    ] as const
  ).map(
    ([alert, check, severity]): Probe => ({
      alert,
      th: { [severity]: 0.5 },
      cmp: '<',
      near: 0.5,
      labels: { ...base, check },
      noTraffic: 'a health check passes or not',
      series: (level) => [{ name: 'health_check_up', labels: { check }, gauge: level < 0.5 ? 0 : 1 }],
    }),
  ),
  {
    alert: 'AuthFailureSpike',
    th: { warning: T.authFailures },
    cmp: '>',
    near: 1,
    labels: jobOnly,
    noTraffic: 'a count of failures in 5m, not a ratio',
    series: (level) => [
      { name: 'auth_failures_total', labels: { reason: 'bad_password' }, counter: level / 5 },
    ],
  },
  {
    alert: 'WebSocketDisconnectSpike',
    th: { warning: T.websocketDisconnectsPerMinute },
    cmp: '>',
    near: 1,
    labels: jobOnly,
    noTraffic: 'a count of disconnects a minute, not a ratio',
    series: (level) => [{ name: 'websocket_disconnect_total', labels: { reason: 'error' }, counter: level }],
  },
  {
    alert: 'HighMemoryUsage',
    th: { warning: T.memoryWarning, critical: T.memoryCritical },
    cmp: '>',
    near: 1,
    labels: base,
    noTraffic: 'resident memory is a gauge',
    series: (level) => [{ name: 'process_resident_memory_bytes', gauge: level }],
  },
  {
    alert: 'MemoryLeakSuspected',
    th: { warning: T.memoryGrowth },
    cmp: '>',
    near: 15e6,
    labels: base,
    noTraffic: 'memory growth is not a ratio of requests',
    at: 40,
    gap: 20,
    // delta over 15m of a gauge growing by level/15 a minute (15 whole minutes in the window).
    series: (level) => [{ name: 'process_resident_memory_bytes', counter: level / 15, start: 1e8 }],
  },
  {
    alert: 'HighCPUUsage',
    th: { warning: T.cpu },
    cmp: '>',
    near: 0.01,
    labels: base,
    noTraffic: 'CPU seconds are not a ratio of requests',
    series: (level) => [{ name: 'process_cpu_seconds_total', counter: level * 60 }],
  },
  {
    alert: 'FileDescriptorsExhaustion',
    th: { warning: T.fileDescriptors },
    cmp: '>',
    near: 0.001,
    labels: base,
    noTraffic: 'open descriptors are a gauge',
    series: (level) => [
      { name: 'process_open_fds', gauge: Math.round(level * 1000) },
      { name: 'process_max_fds', gauge: 1000 },
    ],
  },
  {
    alert: 'EventLoopLag',
    th: { warning: T.eventLoopLag },
    cmp: '>',
    near: 0.001,
    labels: base,
    noTraffic: 'event-loop lag is a gauge',
    series: (level) => [{ name: 'nodejs_eventloop_lag_p99_seconds', gauge: level }],
  },
  {
    alert: 'HttpRoutesOverflowed',
    th: { warning: 0 },
    cmp: '>',
    near: 1,
    labels: base,
    noTraffic: 'a count of route templates, not a ratio of requests',
    series: (level) => [{ name: 'http_routes_overflowed', gauge: level }],
  },
  {
    alert: 'BotStartErrors',
    th: { warning: T.botStartErrors },
    cmp: '>',
    near: 1,
    labels: { ...jobOnly, bot_id: 'bot-1' },
    noTraffic: 'a count of failed starts, not a ratio',
    series: (level) => [{ name: 'bot_start_errors_total', labels: { bot_id: 'bot-1' }, counter: level / 5 }],
  },
  {
    alert: 'BotCrashLoop',
    th: { warning: T.crashLoopWarning, critical: T.crashLoopCritical },
    cmp: '>=',
    near: 1,
    labels: { ...jobOnly, bot_id: 'bot-1' },
    noTraffic: 'a count of restarts, not a ratio',
    series: (level) => [{ name: 'bot_restarts_total', labels: { bot_id: 'bot-1' }, counter: level / 10 }],
  },
  {
    alert: 'QueueBacklog',
    th: { warning: T.queueBacklogWarning, critical: T.queueBacklogCritical },
    cmp: '>',
    near: 1,
    labels: { ...jobOnly, queue: 'messages' },
    noTraffic: 'queue depth is a gauge',
    series: (level) => [{ name: 'task_queue_depth', labels: { queue: 'messages' }, gauge: level }],
  },
  {
    alert: 'BotDispatchSlow',
    th: { warning: 0.5 },
    cmp: '<',
    near: 0.01,
    labels: jobOnly,
    // level: the share of dispatches within dispatchLatencyP50 (the median is above it below 0.5).
    series: (level, traffic) => {
      const n = perMin(traffic);
      return [
        {
          name: 'bot_dispatch_latency_seconds_bucket',
          labels: { le: String(T.dispatchLatencyP50) },
          counter: level * n,
        },
        { name: 'bot_dispatch_latency_seconds_bucket', labels: { le: '+Inf' }, counter: n },
        { name: 'bot_dispatch_latency_seconds_count', counter: n },
      ];
    },
  },
  {
    alert: 'MessageProcessingSlow',
    th: { warning: T.messageProcessingP95 },
    cmp: '>',
    near: 0.01,
    quantile: 0.95,
    labels: jobOnly,
    series: (level, traffic, bound) =>
      histogram('bot_message_processing_duration_seconds', {}, level, traffic, bound),
  },
  {
    alert: 'DependencyLatencyHigh',
    th: { warning: lat('Warning'), critical: lat('Critical') },
    cmp: '>',
    near: 0.01,
    quantile: 0.95,
    labels: { ...jobOnly, dependency: 'qdrant' },
    series: (level, traffic, bound) =>
      histogram(
        'dependency_request_duration_seconds',
        { dependency: 'qdrant', outcome: 'success' },
        level,
        traffic,
        bound,
      ),
  },
  {
    alert: 'DependencyErrorRate',
    th: { warning: T.dependencyErrorRatioWarning, critical: T.dependencyErrorRatioCritical },
    cmp: '>',
    near: 0.01,
    labels: { ...jobOnly, dependency: 'qdrant' },
    series: (level, traffic) =>
      ratio(
        {
          name: 'dependency_request_duration_seconds_count',
          labels: { dependency: 'qdrant', outcome: 'error' },
        },
        {
          name: 'dependency_request_duration_seconds_count',
          labels: { dependency: 'qdrant', outcome: 'success' },
        },
        level,
        traffic,
      ),
  },
  {
    alert: 'CacheHitRatioLow',
    th: { info: T.cacheHitRatio },
    cmp: '<',
    near: 0.01,
    labels: { ...jobOnly, cache: 'bot_status' },
    at: 45,
    series: (level, traffic) =>
      ratio(
        { name: 'cache_hits_total', labels: { cache: 'bot_status' } },
        { name: 'cache_misses_total', labels: { cache: 'bot_status' } },
        level,
        traffic,
      ),
  },
  {
    // Steady traffic: every window holds the same ratio, so the 6x (6h/30m) page and the 1x (3d/6h) ticket decide.
    alert: 'AvailabilityBudgetBurn',
    th: {
      critical: budget(DEFAULT_OPS_OPTIONS.sloTarget, 6),
      warning: budget(DEFAULT_OPS_OPTIONS.sloTarget),
    },
    cmp: '>',
    near: 0.001,
    labels: jobOnly,
    at: 40,
    series: (level, traffic) =>
      ratio(
        { name: 'http_requests_total', labels: { ...http, status: '503' } },
        { name: 'http_requests_total', labels: http },
        level,
        traffic,
      ),
  },
  {
    alert: 'LatencyBudgetBurn',
    th: {
      critical: budget(DEFAULT_OPS_OPTIONS.latencySlo.target, 6),
      warning: budget(DEFAULT_OPS_OPTIONS.latencySlo.target),
    },
    cmp: '>',
    near: 0.01,
    labels: jobOnly,
    at: 40,
    // level: the share of requests slower than latencySlo.thresholdSeconds.
    series: (l, traffic) => {
      const n = perMin(traffic);
      const level = clamp(l);
      const le = String(DEFAULT_OPS_OPTIONS.latencySlo.thresholdSeconds);
      return [
        { name: 'http_request_duration_seconds_bucket', labels: { ...http, le }, counter: (1 - level) * n },
        { name: 'http_request_duration_seconds_bucket', labels: { ...http, le: '+Inf' }, counter: n },
        { name: 'http_request_duration_seconds_count', labels: http, counter: n },
        { name: 'http_requests_total', labels: http, counter: n },
      ];
    },
  },
  {
    alert: 'HostDiskSpaceLow',
    th: { warning: T.diskFreeWarning, critical: T.diskFreeCritical },
    cmp: '<',
    near: 0.01,
    labels: { job: 'node', instance: 'host:9100', mountpoint: '/', fstype: 'ext4', device: '/dev/sda1' },
    noTraffic: 'free disk is a gauge',
    series: (level) => {
      const l = { job: 'node', instance: 'host:9100', mountpoint: '/', fstype: 'ext4', device: '/dev/sda1' };
      return [
        { name: 'node_filesystem_avail_bytes', labels: l, gauge: Math.round(level * 1000) },
        { name: 'node_filesystem_size_bytes', labels: l, gauge: 1000 },
      ];
    },
  },
];

/** TargetMissing has no level: it fires when `up` of the job is absent. Its cases are written out. */
export const TARGET_MISSING = 'TargetMissing';

export type Kind = 'fire' | 'quiet' | 'edge-quiet' | 'edge-fire' | 'low-traffic' | 'gap' | 'restart';

export interface PromtoolCase {
  alert: string;
  kind: Kind;
  name: string;
  input_series: Array<{ series: string; values: string }>;
  evals: Array<{ at: string; firing: Array<Labels & { severity: Severity }> }>;
}

const text = (name: string, labels: Labels) =>
  `${name}{${Object.entries(labels)
    .map(([k, v]) => `${k}="${v}"`)
    .join(',')}}`;

/** The promtool cases of one probe. */
export function probeCases(p: Probe): PromtoolCase[] {
  const at = p.at ?? 12;
  const gap = p.gap ?? at;
  const sevs = Object.keys(p.th) as Severity[];
  const ths = sevs.map((s) => p.th[s] as number);
  const passes = (level: number, th: number) =>
    p.cmp === '>' ? level > th : p.cmp === '>=' ? level >= th : level < th;
  const q = p.quantile;
  const firing = (level: number, bound: number) =>
    sevs
      .filter((s) => {
        const th = p.th[s] as number;
        if (q === undefined) return passes(level, th);
        const share = th < bound ? 1 : th === bound ? level : 0;
        return share > 1 - q;
      })
      .map((severity) => ({ ...p.labels, severity }));
  const render = (series: S[], mode: 'steady' | 'gap', after?: S[]) =>
    series.map((x, i) => {
      const labels = { ...base, ...x.labels };
      const start = x.start ?? 0;
      let values: string;
      if (mode === 'steady')
        values = x.counter !== undefined ? `${start}+${x.counter}x${at}` : `${x.gauge}x${at}`;
      else if (x.counter !== undefined)
        values = `${start}+${x.counter}x4 _x${gap} ${start + 4 * x.counter}x${at}`;
      else values = `${x.gauge}x4 _x${gap} ${after?.[i]?.gauge}x${at}`;
      return { series: text(x.name, labels), values };
    });
  const cases: PromtoolCase[] = [];
  const steady = (kind: Kind, what: string, level: number, bound = 0, traffic: 'normal' | 'low' = 'normal') =>
    cases.push({
      alert: p.alert,
      kind,
      name: `${p.alert}: ${what}`,
      input_series: render(p.series(level, traffic, bound), 'steady'),
      evals: [{ at: `${at}m`, firing: traffic === 'low' ? [] : firing(level, bound) }],
    });
  const past = (th: number, k: number) => (p.cmp === '<' ? th - k : th + k);
  for (const s of sevs) {
    const th = p.th[s] as number;
    if (q !== undefined) {
      steady('fire', `${s}: ${2 * (1 - q) * 100}% slower than ${th}`, 2 * (1 - q), th);
      steady(
        'edge-quiet',
        `${s}: exactly ${Math.round((1 - q) * 100)}% slower than ${th} (the quantile is the bound)`,
        1 - q,
        th,
      );
      steady('edge-fire', `${s}: ${Math.round((1 - q + 0.01) * 100)}% slower than ${th}`, 1 - q + 0.01, th);
    } else {
      const far = p.cmp === '<' ? th / 2 : Math.max(th * 2, th + 2 * p.near);
      steady('fire', `${s}: at ${far}`, far);
      const quietEdge = p.cmp === '>=' ? th - p.near : th;
      const fireEdge = p.cmp === '>=' ? th : past(th, p.near);
      steady('edge-quiet', `${s}: at ${quietEdge} (the last quiet level)`, quietEdge);
      steady('edge-fire', `${s}: at ${fireEdge} (the first firing level)`, fireEdge);
    }
  }
  const quietLevel = q !== undefined ? 0 : p.cmp === '<' ? Math.max(...ths) * 2 || 1 : Math.min(...ths) / 2;
  steady(
    'quiet',
    `well within every threshold (${quietLevel})`,
    quietLevel,
    q !== undefined ? Math.min(...ths) : 0,
  );
  const worst = q !== undefined ? 1 : p.cmp === '<' ? 0 : Math.max(...ths) * 4 + 4 * p.near;
  const worstBound = q !== undefined ? Math.max(...ths) : 0;
  if (!p.noTraffic)
    steady('low-traffic', 'below minRequestRate, every request failing or slow', worst, worstBound, 'low');
  // A gap longer than the window: counters come back with their old totals and no new events,
  // gauges come back at a healthy level. Quiet at every evaluation after the return.
  const back = 5 + gap;
  cases.push({
    alert: p.alert,
    kind: 'gap',
    name: `${p.alert}: after a ${gap}m scrape gap, old totals are not new events`,
    input_series: render(
      p.series(worst, 'normal', worstBound),
      'gap',
      p.series(quietLevel, 'normal', worstBound),
    ),
    evals: Array.from({ length: at }, (_, i) => ({ at: `${back + i}m`, firing: [] })),
  });
  return cases;
}

/** TargetMissing: no level, so its cases are written out. */
export function targetMissingCases(): PromtoolCase[] {
  const up = (values: string, job = JOB) => ({ series: text('up', { job, instance: INSTANCE }), values });
  const firing = [{ job: JOB, severity: 'critical' as const }];
  return [
    {
      alert: TARGET_MISSING,
      kind: 'fire',
      name: 'TargetMissing: only another job has up',
      input_series: [up('1x20', 'other')],
      evals: [{ at: '10m', firing }],
    },
    {
      alert: TARGET_MISSING,
      kind: 'quiet',
      name: 'TargetMissing: scraped (down counts as present)',
      input_series: [up('0x20')],
      evals: [{ at: '10m', firing: [] }],
    },
    // absent() is 1 from the first evaluation without up; for: 2m fires two evaluations later.
    {
      alert: TARGET_MISSING,
      kind: 'edge-quiet',
      name: 'TargetMissing: missing for less than for:',
      input_series: [up('1x5 _x10')],
      evals: [{ at: '11m', firing: [] }],
    },
    {
      alert: TARGET_MISSING,
      kind: 'edge-fire',
      name: 'TargetMissing: missing for for:',
      input_series: [up('1x5 _x10')],
      evals: [{ at: '13m', firing }],
    },
    {
      alert: TARGET_MISSING,
      kind: 'gap',
      name: 'TargetMissing: quiet once the target is back after a gap',
      input_series: [up('1x5 _x10 1x10')],
      evals: [16, 17, 18, 20].map((m) => ({ at: `${m}m`, firing: [] })),
    },
  ];
}

/** Alerts that have no min-traffic clause and why (the meta-test reads it). */
export const NO_TRAFFIC: Readonly<Record<string, string>> = {
  [TARGET_MISSING]: 'a target is scraped or not',
  ...GENAI_NO_TRAFFIC,
  ...Object.fromEntries(PROBES.filter((p) => p.noTraffic).map((p) => [p.alert, p.noTraffic as string])),
};

/** The hand-computed model-alert scenarios (genai-scenarios.ts) as promtool cases. */
export function genAiCases(): PromtoolCase[] {
  return GENAI_CASES.map((c) => ({
    alert: c.alert,
    kind: c.kind,
    name: `${c.alert}: ${c.what}`,
    input_series: inputSeries(c),
    evals: c.at.map((m) => ({
      at: `${m}m`,
      firing: c.fires.map((f) => ({ ...f.labels, severity: f.severity })),
    })),
  }));
}
