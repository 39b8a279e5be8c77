import { closest } from '@deia/metrics/adapter';
import { resolveCatalogOptions } from './catalog-view.js';
import { DeiaOpsError } from './errors.js';
import { resolveKubernetesOptions } from './kubernetes-options.js';
import { resolveAggregateBy } from './options-aggregate.js';
import { resolveAlertmanagerOptions } from './options-alertmanager.js';
import { resolveExporter } from './options-exporters.js';
import { resolveTtfcSlo } from './options-genai.js';
import { resolveNativeHistograms, thresholdDefaults } from './options-native.js';
import { resolveLlmPrice } from './options-price.js';
import type { OpsForKey, OpsOptions, OpsThresholds, ResolvedOpsOptions } from './types.js';

/** Every default of the ops generator, in one place. Thresholds: see docs/alerts.md for the choice. */
export const DEFAULT_OPS_OPTIONS = {
  job: 'deia-bot-controller',
  prefix: '',
  aggregateBy: [],
  runbookBaseUrl: 'https://github.com/deia-observability/deia-observability/blob/main/docs/runbooks',
  sloTarget: 0.995,
  latencySlo: { target: 0.95, thresholdSeconds: 0.2 },
  ttfcSlo: { target: 0.95, thresholdSeconds: 1.28 },
  thresholds: {
    errorRatioWarning: 0.01,
    errorRatioCritical: 0.05,
    latencyP95Warning: 0.5,
    latencyP95Critical: 1,
    dbPoolWarning: 0.8,
    dbPoolCritical: 0.95,
    dbQueryP95: 1,
    memoryWarning: 1.6e9,
    memoryCritical: 1.9e9,
    memoryGrowth: 500e6,
    cpu: 0.8,
    fileDescriptors: 0.85,
    diskFreeWarning: 0.15,
    diskFreeCritical: 0.1,
    botStartErrors: 0,
    crashLoopWarning: 2,
    crashLoopCritical: 4,
    queueBacklogWarning: 20,
    queueBacklogCritical: 40,
    dispatchLatencyP50: 2,
    messageProcessingP95: 0.5,
    dependencyLatencyWarning: 0.3,
    dependencyLatencyCritical: 0.5,
    dependencyErrorRatioWarning: 0.05,
    dependencyErrorRatioCritical: 0.25,
    cacheHitRatio: 0.7,
    websocketDisconnectsPerMinute: 20,
    authFailures: 10,
    eventLoopLag: 0.2,
    minRequestRate: 0.1,
    ttfcP95: 2.56,
    modelErrorRatioWarning: 0.05,
    modelErrorRatioCritical: 0.25,
    generationRateDrop: 0.5,
    generationRateFloor: 0,
    coldStartsPerMinute: 2,
  } satisfies OpsThresholds,
  for: {
    serviceDown: '1m',
    targetMissing: '2m',
    errorRatioWarning: '5m',
    errorRatioCritical: '2m',
    latencyP95Warning: '5m',
    latencyP95Critical: '5m',
    dbPoolWarning: '2m',
    dbPoolCritical: '1m',
    dbQueryP95: '5m',
    databaseDown: '30s',
    cacheDown: '1m',
    memoryWarning: '5m',
    memoryCritical: '1m',
    memoryGrowth: '15m',
    cpu: '5m',
    fileDescriptors: '5m',
    diskFreeWarning: '5m',
    diskFreeCritical: '5m',
    botStartErrors: '1m',
    crashLoopWarning: '0s',
    crashLoopCritical: '0s',
    queueBacklogWarning: '5m',
    queueBacklogCritical: '2m',
    dispatchLatencyP50: '5m',
    messageProcessingP95: '5m',
    dependencyLatencyWarning: '5m',
    dependencyLatencyCritical: '5m',
    dependencyErrorRatioWarning: '5m',
    dependencyErrorRatioCritical: '2m',
    cacheHitRatio: '30m',
    websocketDisconnects: '2m',
    authFailures: '1m',
    eventLoopLag: '5m',
    routesOverflowed: '10m',
    sloPage: '2m',
    sloTicket: '15m',
    llmDown: '1m',
    ttfcP95: '5m',
    modelErrorRatioWarning: '5m',
    modelErrorRatioCritical: '2m',
    generationRate: '10m',
    coldStarts: '5m',
  } satisfies Record<OpsForKey, string>,
  forScale: 1,
  windowScale: 1,
  windowFloor: '1m',
  checks: { database: 'database|db|postgres', cache: 'cache|redis', llm: 'ollama|llm' },
  optional: { auth: false, websocket: false, botResources: false, uploads: false },
  llmDependencies: 'ollama',
  nodeExporter: { enabled: false, job: 'node', targets: ['127.0.0.1:9100'] },
  prometheus: {
    scrapeTargets: ['127.0.0.1:8000'],
    metricsPath: '/metrics',
    scrapeInterval: '15s',
    evaluationInterval: '15s',
    alertmanagers: ['127.0.0.1:9093'],
  },
  alertmanager: {
    slackApiUrlFile: '/etc/alertmanager/secrets/slack-webhook-url',
    pagerdutyRoutingKeyFile: '/etc/alertmanager/secrets/pagerduty-routing-key',
    slackChannels: { critical: '#deia-critical', warning: '#deia-warnings', info: '#deia-info' },
    email: {
      to: 'ops@example.com',
      from: 'alerts@example.com',
      smarthost: 'smtp.example.com:587',
      authUsername: 'alerts@example.com',
      authPasswordFile: '/etc/alertmanager/secrets/smtp-password',
    },
    groupBy: ['alertname', 'job', 'severity'],
    repeatInterval: { critical: '1h', warning: '4h', info: '24h' },
    groupWait: { critical: '10s', warning: '30s', info: '5m' },
    groupInterval: { critical: '1m', warning: '5m', info: '30m' },
    symptomWait: '30s',
  },
  grafana: {
    prometheusUrl: 'http://127.0.0.1:9090',
    dashboardsPath: '/var/lib/grafana/dashboards/deia',
    uidPrefix: 'deia',
    clusterVariable: false,
  },
} as const;

const CODE = 'DEIA_OPS_OPTIONS';
/** Throws the generator's option error (`DEIA_OPS_OPTIONS`). */
export const fail = (message: string): never => {
  throw new DeiaOpsError(CODE, message);
};

const DURATION_RE = /^(?:\d+(?:ms|s|m|h|d|w|y))+$/;
const UNIT_SECONDS: Record<string, number> = {
  ms: 0.001,
  s: 1,
  m: 60,
  h: 3600,
  d: 86400,
  w: 604800,
  y: 31536000,
};

/** Parses a Prometheus duration ('1h30m') into seconds. */
export function parseDuration(text: string): number {
  if (!DURATION_RE.test(text)) fail(`"${text}" is not a Prometheus duration; use e.g. "30s", "5m", "1h30m".`);
  let total = 0;
  for (const m of text.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g))
    total += Number(m[1]) * (UNIT_SECONDS[m[2] as string] ?? 0);
  return total;
}

/** Formats seconds as a Prometheus duration, largest units first ('90' -> '1m30s'). */
export function formatDuration(seconds: number): string {
  let ms = Math.round(seconds * 1000);
  if (ms <= 0) return '0s';
  let out = '';
  for (const [unit, size] of [
    ['d', 86400000],
    ['h', 3600000],
    ['m', 60000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    if (ms >= size) {
      out += `${Math.floor(ms / size)}${unit}`;
      ms %= size;
    }
  }
  return out;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** `value` as an object of only `allowed` keys (`{}` when undefined); unknown keys throw with "did you mean". */
export function checkKeys(
  where: string,
  value: unknown,
  allowed: readonly string[],
): Record<string, unknown> {
  if (value === undefined) return {};
  if (!isObject(value)) return fail(`${where} must be an object.`);
  for (const key of Object.keys(value)) {
    if (allowed.includes(key)) continue;
    const near = closest(key, allowed);
    fail(
      `${where}.${key} is not a known option${near ? ` (did you mean "${near}"?)` : ''}; known: ${allowed.join(', ')}.`,
    );
  }
  return value;
}

/** A non-empty string option, or `fallback` when undefined. */
export function str(where: string, value: unknown, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || value === '') return fail(`${where} must be a non-empty string.`);
  return value;
}

/** A non-empty array of non-empty strings, or a copy of `fallback` when undefined. */
export function strList(where: string, value: unknown, fallback: readonly string[]): string[] {
  if (value === undefined) return [...fallback];
  if (!Array.isArray(value) || value.length === 0 || value.some((v) => typeof v !== 'string' || v === '')) {
    return fail(`${where} must be a non-empty array of strings.`);
  }
  return [...value] as string[];
}

/** A ratio option strictly between 0 and 1, or `fallback` when undefined. */
export function ratio(where: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value < 1))
    return fail(`${where} must be a number between 0 and 1 (exclusive).`);
  return value;
}

/** A Prometheus duration option, or `fallback` when undefined. */
export function duration(where: string, value: unknown, fallback: string): string {
  const v = str(where, value, fallback);
  try {
    parseDuration(v);
  } catch {
    fail(`${where} "${v}" is not a Prometheus duration; use e.g. "30s", "5m", "1h".`);
  }
  return v;
}

/** A Prometheus label name. */
export const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PREFIX_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

/** Applies the defaults to `options` and validates them; throws `DeiaOpsError` (`DEIA_OPS_OPTIONS`). */
export function resolveOpsOptions(options: OpsOptions = {}): ResolvedOpsOptions {
  const D = DEFAULT_OPS_OPTIONS;
  const o = checkKeys('options', options, [
    'job',
    'selector',
    'aggregateBy',
    'prefix',
    'groups',
    'buckets',
    'nativeHistograms',
    'extraMetrics',
    'defaultMetrics',
    'runbookBaseUrl',
    'sloTarget',
    'latencySlo',
    'ttfcSlo',
    'thresholds',
    'for',
    'forScale',
    'windowScale',
    'windowFloor',
    'checks',
    'optional',
    'llmDependencies',
    'llmPricePer1kTokens',
    'nodeExporter',
    'postgresExporter',
    'redisExporter',
    'prometheus',
    'alertmanager',
    'grafana',
    'kubernetes',
  ]) as OpsOptions;
  const job = str('job', o.job, D.job);
  if (/["\\\n]/.test(job)) fail('job must not contain quotes, backslashes or newlines.');
  const selector = str('selector', o.selector, `job="${job}"`);
  if (/[{}]/.test(selector))
    fail('selector is the inside of {...}: write `job="x",env="prod"` without braces.');
  const prefix = o.prefix ?? D.prefix;
  if (typeof prefix !== 'string' || !PREFIX_RE.test(prefix)) {
    fail(
      `prefix "${String(prefix)}" is not a valid metric name prefix; use the prefix given to createMetrics.`,
    );
  }
  const runbookBaseUrl = str('runbookBaseUrl', o.runbookBaseUrl, D.runbookBaseUrl).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(runbookBaseUrl)) fail('runbookBaseUrl must be an http(s) URL.');
  const sloTarget = ratio('sloTarget', o.sloTarget, D.sloTarget);
  const ls = checkKeys('latencySlo', o.latencySlo, ['target', 'thresholdSeconds']);
  const latencySlo = {
    target: ratio('latencySlo.target', ls.target, D.latencySlo.target),
    thresholdSeconds: (ls.thresholdSeconds as number | undefined) ?? D.latencySlo.thresholdSeconds,
  };
  // It selects a bucket by its `le` label, so it must be a bound of http_request_duration_seconds
  // (unless that histogram is native: checked with the rules).
  if (typeof latencySlo.thresholdSeconds !== 'number' || !(latencySlo.thresholdSeconds > 0)) {
    fail(
      'latencySlo.thresholdSeconds must be a positive number, a bucket bound of http_request_duration_seconds (e.g. 0.2).',
    );
  }
  const catalog = resolveCatalogOptions(o, prefix as string);
  const nativeHistograms = resolveNativeHistograms(o.nativeHistograms, catalog.groups, catalog.extraMetrics);
  const ttfcSlo = resolveTtfcSlo(o.ttfcSlo, D.ttfcSlo);
  for (const [name, target] of [
    ['sloTarget', sloTarget],
    ['latencySlo.target', latencySlo.target],
    ['ttfcSlo.target', ttfcSlo.target],
  ] as const) {
    // The fastest burn rate must be reachable: 14.4 x the error budget has to stay below 100%.
    if (14.4 * (1 - target) >= 1)
      fail(`${name} ${target} leaves an error budget too large for a 14.4x burn-rate alert; use >= 0.931.`);
  }

  const th = checkKeys('thresholds', o.thresholds, Object.keys(D.thresholds));
  const thresholds = thresholdDefaults({ ...D.thresholds } as OpsThresholds, nativeHistograms);
  for (const [key, value] of Object.entries(th)) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      fail(`thresholds.${key} must be a non-negative number.`);
    }
    (thresholds as unknown as Record<string, number>)[key] = value as number;
  }
  for (const [lo, hi] of [
    ['errorRatioWarning', 'errorRatioCritical'],
    ['latencyP95Warning', 'latencyP95Critical'],
    ['dbPoolWarning', 'dbPoolCritical'],
    ['memoryWarning', 'memoryCritical'],
    ['crashLoopWarning', 'crashLoopCritical'],
    ['queueBacklogWarning', 'queueBacklogCritical'],
    ['dependencyLatencyWarning', 'dependencyLatencyCritical'],
    ['dependencyErrorRatioWarning', 'dependencyErrorRatioCritical'],
    ['modelErrorRatioWarning', 'modelErrorRatioCritical'],
    ['diskFreeCritical', 'diskFreeWarning'],
  ] as const) {
    if (thresholds[lo] >= thresholds[hi])
      fail(`thresholds.${lo} (${thresholds[lo]}) must be below thresholds.${hi} (${thresholds[hi]}).`);
  }
  if (thresholds.generationRateDrop >= 1)
    fail('thresholds.generationRateDrop must be below 1 (a share of the baseline generation rate; 0 = off).');

  const f = checkKeys('for', o.for, Object.keys(D.for));
  const forScale = o.forScale ?? D.forScale;
  if (typeof forScale !== 'number' || !Number.isFinite(forScale) || forScale < 0)
    fail('forScale must be a number >= 0.');
  const forDurations = {} as Record<OpsForKey, string>;
  for (const key of Object.keys(D.for) as OpsForKey[]) {
    const base = duration(`for.${key}`, f[key], D.for[key]);
    forDurations[key] = formatDuration(parseDuration(base) * forScale);
  }

  const windowScale = o.windowScale ?? D.windowScale;
  if (typeof windowScale !== 'number' || !Number.isFinite(windowScale) || !(windowScale > 0))
    fail('windowScale must be a number > 0 (e.g. 0.05 to make 5m windows 15s in a test).');
  const windowFloor = duration('windowFloor', o.windowFloor, D.windowFloor);
  if (!(parseDuration(windowFloor) > 0)) fail('windowFloor must be longer than 0s.');

  const c = checkKeys('checks', o.checks, ['database', 'cache', 'llm']);
  const checks = {
    database: str('checks.database', c.database, D.checks.database),
    cache: str('checks.cache', c.cache, D.checks.cache),
    llm: str('checks.llm', c.llm, D.checks.llm),
  };
  for (const [k, v] of Object.entries(checks)) {
    try {
      new RegExp(v);
    } catch {
      fail(`checks.${k} must be a regular expression.`);
    }
    if (v.includes('"')) fail(`checks.${k} must not contain quotes.`);
  }

  const op = checkKeys('optional', o.optional, ['auth', 'websocket', 'botResources', 'uploads']);
  const optional: ResolvedOpsOptions['optional'] = { ...D.optional };
  for (const [k, v] of Object.entries(op)) {
    if (typeof v !== 'boolean') fail(`optional.${k} must be a boolean.`);
    optional[k as keyof typeof optional] = v as boolean;
  }
  const llmDependencies = str('llmDependencies', o.llmDependencies, D.llmDependencies);
  if (llmDependencies.includes('"')) fail('llmDependencies must not contain quotes.');
  try {
    new RegExp(llmDependencies);
  } catch {
    fail('llmDependencies must be a regular expression.');
  }

  const llmPricePer1kTokens = resolveLlmPrice(o);

  const ne = checkKeys('nodeExporter', o.nodeExporter, ['enabled', 'job', 'targets']);
  if (ne.enabled !== undefined && typeof ne.enabled !== 'boolean')
    fail('nodeExporter.enabled must be a boolean.');
  const nodeExporter = {
    enabled: (ne.enabled as boolean | undefined) ?? D.nodeExporter.enabled,
    job: str('nodeExporter.job', ne.job, D.nodeExporter.job),
    targets: strList('nodeExporter.targets', ne.targets, D.nodeExporter.targets),
  };

  const postgresExporter = resolveExporter('postgresExporter', o.postgresExporter);
  const redisExporter = resolveExporter('redisExporter', o.redisExporter);
  const jobs = new Map<string, string>([['job', job]]);
  for (const [key, e] of Object.entries({ nodeExporter, postgresExporter, redisExporter })) {
    if (!e.enabled) continue;
    const same = [...jobs].find(([, j]) => j === e.job);
    if (same)
      fail(`${key}.job "${e.job}" is the job of ${same[0]} too: every scrape job needs its own name.`);
    jobs.set(`${key}.job`, e.job);
  }

  const p = checkKeys('prometheus', o.prometheus, [
    'scrapeTargets',
    'metricsPath',
    'scrapeInterval',
    'evaluationInterval',
    'alertmanagers',
    'bearerTokenFile',
  ]);
  const prometheus = {
    scrapeTargets: strList('prometheus.scrapeTargets', p.scrapeTargets, D.prometheus.scrapeTargets),
    metricsPath: str('prometheus.metricsPath', p.metricsPath, D.prometheus.metricsPath),
    scrapeInterval: duration('prometheus.scrapeInterval', p.scrapeInterval, D.prometheus.scrapeInterval),
    evaluationInterval: duration(
      'prometheus.evaluationInterval',
      p.evaluationInterval,
      D.prometheus.evaluationInterval,
    ),
    alertmanagers: strList('prometheus.alertmanagers', p.alertmanagers, D.prometheus.alertmanagers),
    bearerTokenFile:
      p.bearerTokenFile === undefined ? undefined : str('prometheus.bearerTokenFile', p.bearerTokenFile, ''),
  };
  for (const t of [...prometheus.scrapeTargets, ...prometheus.alertmanagers, ...nodeExporter.targets]) {
    if (!/^[^\s/:]+:\d+$/.test(t)) fail(`target "${t}" must be host:port (no scheme, no path).`);
  }

  const alertmanager = resolveAlertmanagerOptions(o.alertmanager);

  const g = checkKeys('grafana', o.grafana, [
    'prometheusUrl',
    'dashboardsPath',
    'uidPrefix',
    'clusterVariable',
    'url',
  ]);
  if (g.clusterVariable !== undefined && typeof g.clusterVariable !== 'boolean')
    fail('grafana.clusterVariable must be a boolean.');
  const grafana = {
    prometheusUrl: str('grafana.prometheusUrl', g.prometheusUrl, D.grafana.prometheusUrl),
    dashboardsPath: str('grafana.dashboardsPath', g.dashboardsPath, D.grafana.dashboardsPath),
    uidPrefix: str('grafana.uidPrefix', g.uidPrefix, D.grafana.uidPrefix),
    clusterVariable: (g.clusterVariable as boolean | undefined) ?? D.grafana.clusterVariable,
    ...(g.url === undefined ? {} : { url: str('grafana.url', g.url, '').replace(/\/+$/, '') }),
  };
  if (grafana.url !== undefined && !/^https?:\/\/[^\s]+$/.test(grafana.url))
    fail('grafana.url must be an http(s) URL.');
  if (!/^[a-zA-Z0-9-_]{1,20}$/.test(grafana.uidPrefix))
    fail('grafana.uidPrefix must be 1-20 letters, digits, - or _.');

  return {
    job,
    selector,
    aggregateBy: resolveAggregateBy(o.aggregateBy, catalog.extraMetrics),
    prefix: prefix as string,
    ...catalog,
    nativeHistograms,
    runbookBaseUrl,
    sloTarget,
    latencySlo,
    ttfcSlo,
    thresholds,
    for: forDurations,
    forScale,
    windowScale,
    windowFloor,
    checks,
    optional,
    llmDependencies,
    llmPricePer1kTokens,
    nodeExporter,
    postgresExporter,
    redisExporter,
    prometheus,
    alertmanager,
    grafana,
    kubernetes: resolveKubernetesOptions(o.kubernetes, job, prometheus),
  };
}
