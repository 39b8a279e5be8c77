import { resolveCatalogOptions } from './catalog-view.js';
import { DEFAULT_OPS_OPTIONS } from './defaults.js';
import { resolveKubernetesOptions } from './kubernetes-options.js';
import { checkKeys, duration, fail, formatDuration, parseDuration, ratio, str, strList } from './options.js';
import { resolveAggregateBy } from './options-aggregate.js';
import { resolveAlertmanagerOptions } from './options-alertmanager.js';
import { resolveExporter } from './options-exporters.js';
import { resolveTtfcSlo } from './options-genai.js';
import { resolveNativeHistograms, thresholdDefaults } from './options-native.js';
import { resolveLlmPrice } from './options-price.js';
import type { OpsForKey, OpsOptions, OpsThresholds, ResolvedOpsOptions } from './types.js';

const PREFIX_RE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)?$/;

const D = DEFAULT_OPS_OPTIONS;

/** The keys of `OpsOptions`. */
const OPS_OPTION_KEYS = [
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
];

/** `thresholds` over the defaults (native-histogram defaults applied); each warning below its critical. */
function resolveThresholds(
  o: OpsOptions,
  nativeHistograms: ResolvedOpsOptions['nativeHistograms'],
): OpsThresholds {
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
  return thresholds;
}

/** The `for:` durations, each scaled by `forScale`. */
function resolveFor(o: OpsOptions) {
  const f = checkKeys('for', o.for, Object.keys(D.for));
  const forScale = o.forScale ?? D.forScale;
  if (typeof forScale !== 'number' || !Number.isFinite(forScale) || forScale < 0)
    fail('forScale must be a number >= 0.');
  const forDurations = {} as Record<OpsForKey, string>;
  for (const key of Object.keys(D.for) as OpsForKey[]) {
    const base = duration(`for.${key}`, f[key], D.for[key]);
    forDurations[key] = formatDuration(parseDuration(base) * forScale);
  }
  return { forScale, forDurations };
}

/** The health-check name patterns, each a regular expression without quotes. */
function resolveChecks(o: OpsOptions): ResolvedOpsOptions['checks'] {
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
  return checks;
}

function resolveOptional(o: OpsOptions): ResolvedOpsOptions['optional'] {
  const op = checkKeys('optional', o.optional, ['auth', 'websocket', 'botResources', 'uploads']);
  const optional: ResolvedOpsOptions['optional'] = { ...D.optional };
  for (const [k, v] of Object.entries(op)) {
    if (typeof v !== 'boolean') fail(`optional.${k} must be a boolean.`);
    optional[k as keyof typeof optional] = v as boolean;
  }
  return optional;
}

function resolveLlmDependencies(o: OpsOptions): string {
  const llmDependencies = str('llmDependencies', o.llmDependencies, D.llmDependencies);
  if (llmDependencies.includes('"')) fail('llmDependencies must not contain quotes.');
  try {
    new RegExp(llmDependencies);
  } catch {
    fail('llmDependencies must be a regular expression.');
  }
  return llmDependencies;
}

function resolveNodeExporter(o: OpsOptions): ResolvedOpsOptions['nodeExporter'] {
  const ne = checkKeys('nodeExporter', o.nodeExporter, ['enabled', 'job', 'targets']);
  if (ne.enabled !== undefined && typeof ne.enabled !== 'boolean')
    fail('nodeExporter.enabled must be a boolean.');
  return {
    enabled: (ne.enabled as boolean | undefined) ?? D.nodeExporter.enabled,
    job: str('nodeExporter.job', ne.job, D.nodeExporter.job),
    targets: strList('nodeExporter.targets', ne.targets, D.nodeExporter.targets),
  };
}

/** Every scrape job (the application's and each enabled exporter's) needs its own name. */
function requireDistinctJobs(
  job: string,
  exporters: Record<string, { enabled: boolean; job: string }>,
): void {
  const jobs = new Map<string, string>([['job', job]]);
  for (const [key, e] of Object.entries(exporters)) {
    if (!e.enabled) continue;
    const same = [...jobs].find(([, j]) => j === e.job);
    if (same)
      fail(`${key}.job "${e.job}" is the job of ${same[0]} too: every scrape job needs its own name.`);
    jobs.set(`${key}.job`, e.job);
  }
}

/** prometheus.yml's settings; every target host:port. */
function resolvePrometheus(o: OpsOptions, nodeExporter: ResolvedOpsOptions['nodeExporter']) {
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
  return prometheus;
}

/** Grafana's provisioning settings. */
function resolveGrafana(o: OpsOptions) {
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
  return grafana;
}

/** Applies the defaults to `options` and validates them; throws `DeiaOpsError` (`DEIA_OPS_OPTIONS`). */
export function resolveOpsOptions(options: OpsOptions = {}): ResolvedOpsOptions {
  const o = checkKeys('options', options, OPS_OPTION_KEYS) as OpsOptions;
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
  const thresholds = resolveThresholds(o, nativeHistograms);
  const { forScale, forDurations } = resolveFor(o);
  const windowScale = o.windowScale ?? D.windowScale;
  if (typeof windowScale !== 'number' || !Number.isFinite(windowScale) || !(windowScale > 0))
    fail('windowScale must be a number > 0 (e.g. 0.05 to make 5m windows 15s in a test).');
  const windowFloor = duration('windowFloor', o.windowFloor, D.windowFloor);
  if (!(parseDuration(windowFloor) > 0)) fail('windowFloor must be longer than 0s.');
  const checks = resolveChecks(o);
  const optional = resolveOptional(o);
  const llmDependencies = resolveLlmDependencies(o);
  const llmPricePer1kTokens = resolveLlmPrice(o);
  const nodeExporter = resolveNodeExporter(o);
  const postgresExporter = resolveExporter('postgresExporter', o.postgresExporter);
  const redisExporter = resolveExporter('redisExporter', o.redisExporter);
  requireDistinctJobs(job, { nodeExporter, postgresExporter, redisExporter });
  const prometheus = resolvePrometheus(o, nodeExporter);
  const alertmanager = resolveAlertmanagerOptions(o.alertmanager);
  const grafana = resolveGrafana(o);
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
